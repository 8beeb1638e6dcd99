// Records retentionWorkflow histories into test/histories/ for the replay test.
// Run after a deliberate change of the workflow's behaviour: `npx tsx scripts/record-retention-histories.ts`.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { resolveTemporalCli } from '../src/temporal/cli-binary';
import { TASK_QUEUES } from '../src/temporal/task-queues';
import type { RetentionInput } from '../src/workflows/retention-types';
import { seed, deletedSoFar } from '../test/retention/seed';
import { testConfig } from '../test/support/config';
import { createTestDatabase } from '../test/support/database';
import { startTestTemporal } from '../test/support/temporal';
import { waitFor } from '../test/support/wait';
import { startTestWorker } from '../test/support/worker';

async function main() {
  const [temporal, database] = await Promise.all([startTestTemporal(), createTestDatabase()]);
  const worker = await startTestWorker(testConfig({ TEMPORAL_ADDRESS: temporal.address, DATABASE_URL: database.url }), database, [TASK_QUEUES.maintenance]);
  const cli = await resolveTemporalCli();
  try {
    const record = async (name: string, input: RetentionInput, whileRunning?: (cancel: () => Promise<unknown>) => Promise<void>) => {
      const handle = await temporal.client.workflow.start('retentionWorkflow', { taskQueue: TASK_QUEUES.maintenance, workflowId: `retention-${name}`, args: [input] });
      if (whileRunning) await whileRunning(() => handle.cancel());
      await handle.result().catch(() => undefined);
      const file = path.join(__dirname, '..', 'test', 'histories', `retention-${name}.json`);
      // The CLI writes the same JSON format as the Web UI's download, which the replayer reads.
      writeFileSync(file, execFileSync(cli, ['workflow', 'show', '--workflow-id', handle.workflowId, '--address', temporal.address, '--output', 'json']));
      console.log(`recorded ${file}`);
    };
    await seed(database.db, { oldNotifications: 30, freshNotifications: 5, oldDeadLetters: 4, oldFinishedRecipients: 6 });
    await record('dry-run', { dryRun: true, batchSize: 10 });
    await record('completed', { batchSize: 10 });
    await record('bad-policy', { maxAgeDays: { dead_letters: 0 } });
    await seed(database.db, { oldNotifications: 200_000, freshNotifications: 0 });
    await record('cancelled', { batchSize: 50 }, async (cancel) => {
      // cancel resolves to the server's reply, which the recording does not need
      await waitFor(async () => (await deletedSoFar(database.db, 'notifications')) > 1_000);
      await cancel();
    });
  } finally {
    await worker.shutdown();
    await temporal.stop();
    await database.drop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
