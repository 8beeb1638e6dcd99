// Input and result of retentionWorkflow, shared by the workflow, its activities and clients.

export const RETENTION_TABLES = ['notifications', 'campaign_recipients', 'dead_letters'] as const;
export type RetentionTable = (typeof RETENTION_TABLES)[number];

export interface RetentionInput {
  /** Count what would be deleted, delete nothing. */
  dryRun?: boolean;
  /** Rows per DELETE statement; defaults to RETENTION_BATCH_SIZE. */
  batchSize?: number;
  /** Per-table age overrides for a manual run; defaults come from the worker's configuration. */
  maxAgeDays?: Partial<Record<RetentionTable, number>>;
}

export interface RetentionPolicy {
  table: RetentionTable;
  maxAgeDays: number;
  batchSize: number;
}

export interface TableReport {
  table: RetentionTable;
  /** Rows older than this were expired. */
  cutoff: string;
  /** Rows deleted, or in a dry run the rows that would be. */
  rows: number;
  batches: number;
}

export interface RetentionReport {
  dryRun: boolean;
  /** True when the run was cancelled; the tables list what was deleted before it stopped. */
  cancelled: boolean;
  startedAt: string;
  tables: TableReport[];
}
