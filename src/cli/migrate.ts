// `npm run migrate`: creates the database if missing and applies the migrations, then exits.
import { ConfigError, loadConfig } from '../config';
import { ensureDatabaseExists, openDatabase } from '../db/connect';
import { migrateToLatest } from '../db/migrate';

async function main() {
  const config = loadConfig();
  await ensureDatabaseExists(config.databaseUrl);
  const db = openDatabase(config.databaseUrl, { maxConnections: 1 });
  try {
    const applied = await migrateToLatest(db);
    console.log(applied.length > 0 ? `applied: ${applied.join(', ')}` : 'the database is up to date');
  } finally {
    await db.destroy();
  }
}

main().catch((error) => {
  console.error(error instanceof ConfigError || error instanceof Error ? error.message : error);
  process.exit(1);
});
