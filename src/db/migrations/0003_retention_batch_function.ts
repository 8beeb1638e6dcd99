import { sql, type Kysely } from 'kysely';

/**
 * One retention batch in one round trip: runs the batch's DELETE (given as text with $1 = cutoff and
 * $2 = batch size) and adds its row count to the run's progress, atomically. A transaction around two
 * statements from the client cost a quarter of the purge's throughput in round trips.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create or replace function retention_delete_batch(
      batch_statement text, batch_cutoff timestamptz, batch_limit integer, progress_run_key text, progress_table text
    ) returns bigint language plpgsql as $$
    declare
      deleted bigint;
    begin
      execute batch_statement using batch_cutoff, batch_limit;
      get diagnostics deleted = row_count;
      if deleted > 0 then
        insert into retention_progress as progress (run_key, table_name, deleted_rows, batches)
        values (progress_run_key, progress_table, deleted, 1)
        on conflict (run_key, table_name) do update set
          deleted_rows = progress.deleted_rows + excluded.deleted_rows,
          batches = progress.batches + 1,
          updated_at = now();
      end if;
      return deleted;
    end
    $$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop function if exists retention_delete_batch(text, timestamptz, integer, text, text)`.execute(db);
}
