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

  // The tables are independent, so they are purged side by side.
  const purges = policies.map((policy) => {
    const cutoff = new Date(startedAt.getTime() - policy.maxAgeDays * 24 * 3600 * 1000).toISOString();
    const batchSize = input.batchSize ?? policy.batchSize;
    return { table: policy.table, cutoff, result: purgeExpired({ runKey, table: policy.table, cutoff, batchSize, dryRun }) };
  });
  const settled = await Promise.allSettled(purges.map((purge) => purge.result));
  const failure = settled.find((outcome) => outcome.status === 'rejected' && !isCancellation(outcome.reason));
  if (failure?.status === 'rejected') throw failure.reason;

  const cancelled = settled.some((outcome) => outcome.status === 'rejected');
  // A cancelled activity finished its current batch before acknowledging; the ledger says what was done.
  const progress = cancelled ? await CancellationScope.nonCancellable(() => readRetentionProgress(runKey)) : [];
  const tables: TableReport[] = purges.map(({ table, cutoff }, index) => {
    const outcome = settled[index]!;
    if (outcome.status === 'fulfilled') return { table, cutoff, ...outcome.value };
    const done = progress.find((row) => row.table === table);
    return { table, cutoff, rows: done?.rows ?? 0, batches: done?.batches ?? 0 };
  });
  log.info('retention done', { dryRun, cancelled, rows: tables.map(({ table, rows }) => `${table}=${rows}`).join(' ') });
  return { dryRun, cancelled, startedAt: startedAt.toISOString(), tables };
}
