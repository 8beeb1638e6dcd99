// `npm run bench:retention [-- --rows N]`: deletes N expired rows through retentionWorkflow and through a
// plain loop of the same batched DELETE statements without Temporal, and prints both rates.
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { deleteExpiredBatch, deleteExpiredBatchWithProgress } from '../src/activities/retention';
import { TASK_QUEUES } from '../src/temporal/task-queues';
import type { RetentionReport } from '../src/workflows/retention-types';
import { seed } from '../test/retention/seed';
import { testConfig } from '../test/support/config';
import { createTestDatabase } from '../test/support/database';
import { startTestTemporal } from '../test/support/temporal';
import { startTestWorker } from '../test/support/worker';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000000' }, 'batch-size': { type: 'string', default: '5000' }, rounds: { type: 'string', default: '3' } } });
const rows = Number(values.rows);
const batchSize = Number(values['batch-size']);
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds <= 0) throw new Error(`--rounds must be a positive integer, got ${values.rounds}`);
if (!Number.isInteger(rows) || rows <= 0) throw new Error(`--rows must be a positive integer, got ${values.rows}`);
if (!Number.isInteger(batchSize) || batchSize <= 0) throw new Error(`--batch-size must be a positive integer, got ${values['batch-size']}`);

async function main() {
  const [temporal, database] = await Promise.all([startTestTemporal(), createTestDatabase()]);
  const config = testConfig({ TEMPORAL_ADDRESS: temporal.address, DATABASE_URL: database.url, RETENTION_BATCH_SIZE: String(batchSize) });
  const worker = await startTestWorker(config, database, [TASK_QUEUES.maintenance]);
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  const reseed = async () => {
    await sql`truncate notifications, retention_progress`.execute(database.db);
    await seed(database.db, { oldNotifications: rows, freshNotifications: 0 });
    await sql`vacuum analyze notifications`.execute(database.db);
  };

  try {
    const results: Array<{ name: string; seconds: number }> = [];
    for (let round = 1; round <= rounds; round++) {
      await reseed();
      let startedAt = performance.now();
      const report: RetentionReport = await temporal.client.workflow.execute('retentionWorkflow', {
        taskQueue: TASK_QUEUES.maintenance,
        workflowId: `bench-retention-${round}`,
        args: [{ batchSize }],
      });
      results.push({ name: 'workflow', seconds: (performance.now() - startedAt) / 1000 });
      const deleted = report.tables.find((table) => table.table === 'notifications')?.rows;
      if (deleted !== rows) throw new Error(`workflow deleted ${deleted} rows, expected ${rows}`);

      await reseed();
      startedAt = performance.now();
      const cutoff = new Date(Date.now() - 90 * 24 * 3600 * 1000);
      let plainDeleted = 0;
      for (;;) {
        const count = await deleteExpiredBatch(database.db, 'notifications', cutoff, batchSize);
        plainDeleted += count;
        if (count < batchSize) break;
      }
      results.push({ name: 'plain loop', seconds: (performance.now() - startedAt) / 1000 });
      if (plainDeleted !== rows) throw new Error(`plain loop deleted ${plainDeleted} rows, expected ${rows}`);

      // The same loop with the per-batch progress bookkeeping that makes the workflow's counts exact:
      // the difference to the workflow is what Temporal itself costs.
      await reseed();
      startedAt = performance.now();
      let bookkeptDeleted = 0;
      for (;;) {
        const count = await deleteExpiredBatchWithProgress(database.db, `bench-${round}`, 'notifications', cutoff, batchSize);
        bookkeptDeleted += count;
        if (count < batchSize) break;
      }
      results.push({ name: 'plain loop with progress', seconds: (performance.now() - startedAt) / 1000 });
      if (bookkeptDeleted !== rows) throw new Error(`plain loop with progress deleted ${bookkeptDeleted} rows, expected ${rows}`);
    }
    // Best of the rounds for each, so one noisy moment on a shared machine does not decide the figure.
    const best = (name: string) => Math.min(...results.filter((result) => result.name === name).map((result) => result.seconds));
    const workflowRate = rows / best('workflow');
    const plainRate = rows / best('plain loop');
    const bookkeptRate = rows / best('plain loop with progress');
    console.log(`rows: ${rows.toLocaleString('en')}, batch size: ${batchSize}`);
    console.log(`retentionWorkflow: ${Math.round(workflowRate).toLocaleString('en')} rows/s (${best('workflow').toFixed(2)} s)`);
    console.log(`plain DELETE loop: ${Math.round(plainRate).toLocaleString('en')} rows/s (${best('plain loop').toFixed(2)} s)`);
    console.log(`plain DELETE loop with the workflow's progress bookkeeping: ${Math.round(bookkeptRate).toLocaleString('en')} rows/s (${best('plain loop with progress').toFixed(2)} s)`);
    console.log(`ratio workflow / plain: ${(workflowRate / plainRate).toFixed(3)}`);
    console.log(`ratio workflow / plain with the same bookkeeping (Temporal's own cost): ${(workflowRate / bookkeptRate).toFixed(3)}`);
    console.log(`peak RSS of the benchmark process (worker included): ${Math.round(peakRss / 1024 / 1024)} MiB`);
  } finally {
    clearInterval(sampler);
    await worker.shutdown();
    await temporal.stop();
    await database.drop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
