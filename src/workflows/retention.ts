// Nightly data retention: each table's expired rows are deleted in bounded batches by one activity per table.
import { CancellationScope, isCancellation, log, proxyActivities, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type { RetentionActivities } from '../activities/retention';
import type { RetentionInput, RetentionReport, TableReport } from './retention-types';

// Short reads: local activities skip a round trip through the server.
const { loadRetentionPolicies, readRetentionProgress } = proxyLocalActivities<RetentionActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

const { purgeExpired } = proxyActivities<RetentionActivities>({
  // A table with millions of expired rows takes a while; liveness is watched by the heartbeat instead.
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '10 seconds',
  cancellationType: 'WAIT_CANCELLATION_COMPLETED',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '2 minutes',
    maximumAttempts: 20,
    nonRetryableErrorTypes: ['InvalidRetentionPolicy'],
  },
});

export async function retentionWorkflow(input: RetentionInput = {}): Promise<RetentionReport> {
  const dryRun = input.dryRun ?? false;
  const info = workflowInfo();
  // One key per run: progress rows written under it make the counts exact across activity retries.
  const runKey = `${info.workflowId}/${info.runId}`;
  // Cutoffs are fixed once, from the workflow's start time, so a retried batch uses the same ones.
  const startedAt = info.runStartTime;
  const policies = await loadRetentionPolicies(input.maxAgeDays ?? {});

  const tables: TableReport[] = [];
  let cancelled = false;
  for (const policy of policies) {
    const cutoff = new Date(startedAt.getTime() - policy.maxAgeDays * 24 * 3600 * 1000).toISOString();
    try {
      const result = await purgeExpired({ runKey, table: policy.table, cutoff, batchSize: input.batchSize ?? policy.batchSize, dryRun });
      tables.push({ table: policy.table, cutoff, ...result });
      log.info('retention table done', { table: policy.table, rows: result.rows, dryRun });
    } catch (error) {
      if (!isCancellation(error)) throw error;
      cancelled = true;
      // The activity finished its current batch before acknowledging; the ledger says what was done.
      const progress = await CancellationScope.nonCancellable(() => readRetentionProgress(runKey));
      for (const row of progress) {
        if (!tables.some((done) => done.table === row.table)) {
          tables.push({ table: row.table, cutoff, rows: row.rows, batches: row.batches });
        }
      }
      break;
    }
  }
  return { dryRun, cancelled, startedAt: startedAt.toISOString(), tables };
}
