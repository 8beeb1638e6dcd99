import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { ensureSchedules, SCHEDULE_IDS } from '../../src/temporal/schedules';
import { TASK_QUEUES } from '../../src/temporal/task-queues';
import { testConfig } from '../support/config';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { startTestTemporal, type TestTemporal } from '../support/temporal';
import { waitFor } from '../support/wait';
import { startTestWorker, type TestWorker } from '../support/worker';

describe('schedules', () => {
  let temporal: TestTemporal;
  let database: TestDatabase;
  let worker: TestWorker | undefined;

  before(async () => {
    [temporal, database] = await Promise.all([startTestTemporal(), createTestDatabase()]);
  });

  after(async () => {
    await worker?.shutdown();
    await temporal?.stop();
    await database?.drop();
  });

  const config = (env: Record<string, string> = {}) => testConfig({ TEMPORAL_ADDRESS: temporal.address, DATABASE_URL: database.url, ...env });

  it('creates them once: a second start-up changes nothing', async () => {
    assert.deepEqual(await ensureSchedules(temporal.client, config()), {
      [SCHEDULE_IDS.retention]: 'created',
      [SCHEDULE_IDS.campaignDispatcher]: 'created',
    });
    assert.deepEqual(await ensureSchedules(temporal.client, config()), {
      [SCHEDULE_IDS.retention]: 'unchanged',
      [SCHEDULE_IDS.campaignDispatcher]: 'unchanged',
    });

    const ids: string[] = [];
    for await (const schedule of temporal.client.schedule.list()) ids.push(schedule.scheduleId);
    assert.deepEqual(ids.sort(), [SCHEDULE_IDS.campaignDispatcher, SCHEDULE_IDS.retention].sort());
  });

  it('runs retention daily at 02:00 in RETENTION_TIMEZONE, skipping overlaps, with a catch-up window', async () => {
    const description = await temporal.client.schedule.getHandle(SCHEDULE_IDS.retention).describe();
    assert.deepEqual(
      description.spec.calendars?.map(({ hour, minute }) => ({ hour, minute })),
      [{ hour: [{ start: 2, end: 2, step: 1 }], minute: [{ start: 0, end: 0, step: 1 }] }],
    );
    assert.equal(description.spec.timezone, 'UTC');
    assert.equal(description.policies.overlap, ScheduleOverlapPolicy.SKIP);
    assert.equal(description.policies.catchupWindow, 6 * 3600 * 1000);
    assert.equal(description.action.type, 'startWorkflow');
    assert.equal(description.action.type === 'startWorkflow' && description.action.workflowType, 'retentionWorkflow');
    assert.equal(description.action.type === 'startWorkflow' && description.action.taskQueue, TASK_QUEUES.maintenance);
    // The next runs land on 02:00 UTC.
    for (const next of description.info.nextActionTimes.slice(0, 2)) {
      assert.equal(next.getUTCHours(), 2);
      assert.equal(next.getUTCMinutes(), 0);
    }
  });

  it('follows a change of time zone at the next start-up', async () => {
    const changes = await ensureSchedules(temporal.client, config({ RETENTION_TIMEZONE: 'Europe/Paris' }));
    assert.equal(changes[SCHEDULE_IDS.retention], 'updated');
    assert.equal(changes[SCHEDULE_IDS.campaignDispatcher], 'unchanged');
    const description = await temporal.client.schedule.getHandle(SCHEDULE_IDS.retention).describe();
    assert.equal(description.spec.timezone, 'Europe/Paris');
    assert.equal((await ensureSchedules(temporal.client, config({ RETENTION_TIMEZONE: 'Europe/Paris' })))[SCHEDULE_IDS.retention], 'unchanged');
  });

  it('starts a retention run when triggered by hand', async () => {
    worker = await startTestWorker(config(), database, [TASK_QUEUES.maintenance]);
    const handle = temporal.client.schedule.getHandle(SCHEDULE_IDS.retention);
    await handle.trigger();

    const workflowId = await waitFor(async () => (await handle.describe()).info.recentActions[0]?.action.workflow.workflowId, {
      message: 'the triggered run',
    });
    const result = await temporal.client.workflow.getHandle(workflowId).result();
    assert.equal(result.dryRun, false);
    assert.deepEqual(result.tables.map((table: { table: string }) => table.table), ['notifications', 'campaign_recipients', 'dead_letters']);
  });
});
