// Retention side effects: batched DELETEs whose progress is committed with each batch.
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Config } from '../config';
import type { Database } from '../db/schema';
import { RETENTION_TABLES, type RetentionPolicy, type RetentionTable } from '../workflows/retention-types';

export interface RetentionDependencies {
  db: Kysely<Database>;
  config: Pick<Config, 'retention'>;
  /** Called after each committed batch, for metrics. */
  onBatchDeleted?: (table: RetentionTable, rows: number) => void;
}

export interface PurgeRequest {
  runKey: string;
  table: RetentionTable;
  /** ISO timestamp: rows older than this are expired. */
  cutoff: string;
  batchSize: number;
  dryRun: boolean;
}

export interface PurgeResult {
  rows: number;
  batches: number;
}

function invalidPolicy(message: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type: 'InvalidRetentionPolicy', nonRetryable: true });
}

/** The row locator (ctid) of up to `limit` expired rows of a table. */
function expiredRows(table: RetentionTable, cutoff: Date, limit: number | null): RawBuilder<unknown> {
  const limitClause = limit === null ? sql`` : sql`limit ${limit}`;
  switch (table) {
    case 'notifications':
      return sql`select ctid from notifications where created_at < ${cutoff} ${limitClause}`;
    case 'dead_letters':
      return sql`select ctid from dead_letters where created_at < ${cutoff} ${limitClause}`;
    case 'campaign_recipients':
      // Only the ledgers of finished campaigns expire; a running campaign keeps its ledger.
      return sql`select r.ctid from campaign_recipients r
        join notification_campaigns c on c.id = r.campaign_id
        where c.status in ('completed', 'cancelled', 'failed') and c.completed_at < ${cutoff} ${limitClause}`;
  }
}

/** The batch's DELETE statement; its parameters are $1 = cutoff and $2 = batch size. */
function deleteStatement(table: RetentionTable, cutoff: Date, batchSize: number) {
  return sql`delete from ${sql.table(table)} where ctid = any(array(${expiredRows(table, cutoff, batchSize)}))`;
}

/** One batch: deletes up to `batchSize` expired rows of a table and says how many went. */
export async function deleteExpiredBatch(db: Kysely<Database>, table: RetentionTable, cutoff: Date, batchSize: number): Promise<number> {
  const result = await deleteStatement(table, cutoff, batchSize).execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/**
 * The same batch, with its count added to the run's progress row atomically, in one round trip
 * (the function retention_delete_batch of migration 0003).
 */
export async function deleteExpiredBatchWithProgress(db: Kysely<Database>, runKey: string, table: RetentionTable, cutoff: Date, batchSize: number): Promise<number> {
  const statement = deleteStatement(table, cutoff, batchSize).compile(db);
  const { rows } = await sql<{ deleted: number }>`
    select retention_delete_batch(${statement.sql}, ${cutoff}, ${batchSize}, ${runKey}, ${table}) as deleted`.execute(db);
  return Number(rows[0]?.deleted ?? 0);
}

export function createRetentionActivities({ db, config, onBatchDeleted }: RetentionDependencies) {
  async function readRetentionProgress(runKey: string): Promise<Array<{ table: RetentionTable } & PurgeResult>> {
    const rows = await db.selectFrom('retention_progress').selectAll().where('run_key', '=', runKey).execute();
    return rows.map((row) => ({ table: row.table_name as RetentionTable, rows: Number(row.deleted_rows), batches: row.batches }));
  }

  return {
    /** The configured policies, with a manual run's overrides applied and checked. */
    async loadRetentionPolicies(overrides: Partial<Record<RetentionTable, number>>): Promise<RetentionPolicy[]> {
      for (const [table, days] of Object.entries(overrides)) {
        if (!RETENTION_TABLES.includes(table as RetentionTable)) throw invalidPolicy(`Unknown retention table "${table}"; expected one of ${RETENTION_TABLES.join(', ')}`);
        if (typeof days !== 'number' || !Number.isFinite(days) || days <= 0) throw invalidPolicy(`Retention age for ${table} must be a positive number of days, got ${String(days)}`);
      }
      return RETENTION_TABLES.map((table) => ({
        table,
        maxAgeDays: overrides[table] ?? config.retention.maxAgeDays[table],
        batchSize: config.retention.batchSize,
      }));
    },

    readRetentionProgress,

    /**
     * Deletes a table's expired rows batch by batch. Each batch commits together with its count in
     * retention_progress, so a retry after a crash resumes with exact totals and loses no batch.
     * On cancellation it finishes the batch in flight, then stops.
     */
    async purgeExpired(request: PurgeRequest): Promise<PurgeResult> {
      const { runKey, table, batchSize, dryRun } = request;
      if (!RETENTION_TABLES.includes(table)) throw invalidPolicy(`Unknown retention table "${table}"`);
      if (!Number.isInteger(batchSize) || batchSize <= 0) throw invalidPolicy(`Retention batch size must be a positive integer, got ${batchSize}`);
      const cutoff = new Date(request.cutoff);
      if (Number.isNaN(cutoff.getTime())) throw invalidPolicy(`Retention cutoff "${request.cutoff}" is not a date`);

      const context = Context.current();
      if (dryRun) {
        const { rows } = await sql<{ count: number }>`select count(*)::bigint as count from (${expiredRows(table, cutoff, null)}) expired`.execute(db);
        const count = Number(rows[0]?.count ?? 0);
        return { rows: count, batches: Math.ceil(count / batchSize) };
      }

      // The bookkeeping of earlier runs expires with the rows it counted.
      await db.deleteFrom('retention_progress').where('table_name', '=', table).where('run_key', '!=', runKey).where('updated_at', '<', cutoff).execute();
      const resumed = (await readRetentionProgress(runKey)).find((row) => row.table === table);
      const progress: PurgeResult = { rows: resumed?.rows ?? 0, batches: resumed?.batches ?? 0 };
      context.heartbeat(progress);
      for (;;) {
        if (context.cancellationSignal.aborted) throw new CancelledFailure('retention cancelled after a completed batch');
        const deleted = await deleteExpiredBatchWithProgress(db, runKey, table, cutoff, batchSize);
        if (deleted > 0) {
          progress.rows += deleted;
          progress.batches += 1;
          onBatchDeleted?.(table, deleted);
        }
        context.heartbeat(progress);
        if (deleted < batchSize) return progress;
      }
    },
  };
}

export type RetentionActivities = ReturnType<typeof createRetentionActivities>;
