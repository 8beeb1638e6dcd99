// Applies the project's migrations; run before any worker starts.
import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import * as initial from './migrations/0001_initial';
import * as campaigns from './migrations/0002_campaigns';
import * as retentionBatchFunction from './migrations/0003_retention_batch_function';

/** Migrations in order. Add new ones here; names sort by their numeric prefix. */
const migrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_campaigns': campaigns,
  '0003_retention_batch_function': retentionBatchFunction,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((result) => result.status === 'Error');
    throw new Error(`Migration ${failed?.migrationName ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return (results ?? []).filter((result) => result.status === 'Success').map((result) => result.migrationName);
}
