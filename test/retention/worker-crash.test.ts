import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TASK_QUEUES } from '../../src/temporal/task-queues';
import type { RetentionReport } from '../../src/workflows/retention-types';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { startTestTemporal, type TestTemporal } from '../support/temporal';
import { waitFor } from '../support/wait';
import { prebuiltWorkflowBundle, spawnService, type ServiceProcess } from '../support/worker-process';
import { countRows, deletedSoFar, seed } from './seed';

describe('retention when the worker is killed', () => {
  let temporal: TestTemporal;
  let database: TestDatabase;
  const workers: ServiceProcess[] = [];

  before(async () => {
    [temporal, database] = await Promise.all([startTestTemporal(), createTestDatabase()]);
  });

  after(async () => {
    await Promise.all(workers.map((worker) => worker.kill('SIGKILL')));
    await temporal?.stop();
    await database?.drop();
  });

  const spawnWorker = async () => {
    const worker = await spawnService('worker', {
      TEMPORAL_ADDRESS: temporal.address,
      DATABASE_URL: database.url,
      WORKFLOW_BUNDLE_PATH: await prebuiltWorkflowBundle(),
    });
    workers.push(worker);
    return worker;
  };

  it('finishes on a new worker after a SIGKILL mid-run, with exact counts and no batch lost', async () => {
    const expired = 300_000;
    await seed(database.db, { oldNotifications: expired, freshNotifications: 25 });
    const first = await spawnWorker();
    const handle = await temporal.client.workflow.start('retentionWorkflow', {
      taskQueue: TASK_QUEUES.maintenance,
      workflowId: 'retention-crash',
      args: [{ batchSize: 50 }],
    });
    await waitFor(async () => (await deletedSoFar(database.db, 'notifications')) >= 2_000, { message: 'the first batches' });

    await first.kill('SIGKILL');
    const atKill = await deletedSoFar(database.db, 'notifications');
    assert.ok(atKill < expired, 'the worker must die before the run is over');

    await spawnWorker();
    const report: RetentionReport = await handle.result();

    const notifications = report.tables.find((table) => table.table === 'notifications');
    assert.equal(notifications?.rows, expired);
    assert.equal(notifications?.batches, expired / 50);
    const rows = await countRows(database.db);
    assert.equal(rows.oldNotifications, 0);
    assert.equal(rows.freshNotifications, 25);
    // The purge really was retried: its activity started more than once.
    const history = await handle.fetchHistory();
    const attempts = (history.events ?? []).flatMap((event) => (event.activityTaskStartedEventAttributes ? [event.activityTaskStartedEventAttributes.attempt ?? 1] : []));
    assert.ok(Math.max(...attempts) >= 2, `expected a retried activity, attempts were ${attempts.join(',')}`);
  });
});
