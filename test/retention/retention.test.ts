import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { sql } from 'kysely';
import { TASK_QUEUES } from '../../src/temporal/task-queues';
import type { RetentionInput, RetentionReport } from '../../src/workflows/retention-types';
import { testConfig } from '../support/config';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { startTestTemporal, type TestTemporal } from '../support/temporal';
import { waitFor } from '../support/wait';
import { startTestWorker, type TestWorker } from '../support/worker';
import { countRows, deletedSoFar, seed } from './seed';

describe('retentionWorkflow', () => {
  let temporal: TestTemporal;
  let database: TestDatabase;
  let worker: TestWorker;
  let run = 0;

  before(async () => {
    [temporal, database] = await Promise.all([startTestTemporal(), createTestDatabase()]);
    const config = testConfig({ TEMPORAL_ADDRESS: temporal.address, DATABASE_URL: database.url });
    worker = await startTestWorker(config, database, [TASK_QUEUES.maintenance]);
  });

  after(async () => {
    await worker?.shutdown();
    await temporal?.stop();
    await database?.drop();
  });

  beforeEach(async () => {
    await sql`truncate notifications, dead_letters, campaign_recipients, notification_campaigns, retention_progress cascade`.execute(database.db);
  });

  const start = (input: RetentionInput) =>
    temporal.client.workflow.start('retentionWorkflow', {
      taskQueue: TASK_QUEUES.maintenance,
      workflowId: `retention-test-${++run}`,
      args: [input],
    });

  const byTable = (report: RetentionReport) => Object.fromEntries(report.tables.map((table) => [table.table, table]));

  it('deletes exactly the rows past each cutoff, in batches, and nothing else', async () => {
    await seed(database.db, {
      oldNotifications: 53,
      freshNotifications: 20,
      oldDeadLetters: 15,
      freshDeadLetters: 4,
      oldFinishedRecipients: 30,
      recentFinishedRecipients: 6,
      runningRecipients: 9,
    });

    const report = await (await start({ batchSize: 7 })).result();

    const tables = byTable(report);
    assert.equal(report.dryRun, false);
    assert.equal(report.cancelled, false);
    assert.deepEqual(
      { rows: tables.notifications?.rows, batches: tables.notifications?.batches },
      { rows: 53, batches: Math.ceil(53 / 7) },
    );
    assert.equal(tables.dead_letters?.rows, 15);
    assert.equal(tables.campaign_recipients?.rows, 30);
    assert.deepEqual(await countRows(database.db), {
      oldNotifications: 0,
      freshNotifications: 20,
      oldDeadLetters: 0,
      freshDeadLetters: 4,
      recipients: 6 + 9,
    });
  });

  it('counts in a dry run without deleting anything, and reports the same counts as a real run', async () => {
    await seed(database.db, { oldNotifications: 40, freshNotifications: 5, oldDeadLetters: 3, oldFinishedRecipients: 11 });
    const before = await countRows(database.db);

    const dry = await (await start({ dryRun: true, batchSize: 10 })).result();

    assert.equal(dry.dryRun, true);
    assert.deepEqual(await countRows(database.db), before);
    const real = await (await start({ batchSize: 10 })).result();
    const rows = (report: RetentionReport) => report.tables.map(({ table, rows, batches }) => ({ table, rows, batches }));
    assert.deepEqual(rows(dry), rows(real));
    assert.deepEqual(rows(real).map((table) => table.rows), [40, 11, 3]);
  });

  it('applies per-table ages given to a manual run', async () => {
    await seed(database.db, { oldNotifications: 10, freshNotifications: 10 });
    // 120-day-old rows are younger than a 365-day policy: nothing expires.
    const report = await (await start({ maxAgeDays: { notifications: 365 } })).result();
    assert.equal(byTable(report).notifications?.rows, 0);
    assert.equal((await countRows(database.db)).oldNotifications, 10);
  });

  it('fails at once, without retrying, on a bad policy', async () => {
    const handle = await start({ maxAgeDays: { notifications: -1 } });
    await assert.rejects(handle.result(), (error: unknown) => {
      assert.ok(error instanceof WorkflowFailedError);
      let cause: unknown = error;
      while (cause instanceof Error && !(cause instanceof ApplicationFailure)) cause = cause.cause;
      assert.ok(cause instanceof ApplicationFailure, 'an ApplicationFailure in the cause chain');
      assert.equal(cause.type, 'InvalidRetentionPolicy');
      assert.equal(cause.nonRetryable, true);
      assert.match(cause.message, /notifications must be a positive number of days/);
      return true;
    });
  });

  it('stops after the current batch when cancelled and reports what it deleted', async () => {
    await seed(database.db, { oldNotifications: 300_000, freshNotifications: 10 });
    const handle = await start({ batchSize: 50 });
    await waitFor(async () => (await deletedSoFar(database.db, 'notifications')) >= 1_000, { message: 'the first batches' });

    await handle.cancel();
    const report = await handle.result();

    assert.equal(report.cancelled, true);
    const deleted = byTable(report).notifications?.rows ?? 0;
    assert.ok(deleted > 0 && deleted < 300_000, `partial report expected, got ${deleted}`);
    // The report is exact, and nothing was deleted after the workflow answered.
    const remaining = (await countRows(database.db)).oldNotifications;
    assert.equal(remaining, 300_000 - deleted);
    assert.equal(deleted % 50, 0, 'only whole batches are deleted');
    assert.equal((await countRows(database.db)).freshNotifications, 10);
  });
});
