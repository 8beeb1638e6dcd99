// A fresh, migrated PostgreSQL database per test file, dropped afterwards.
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { ensureDatabaseExists, openDatabase } from '../../src/db/connect';
import { migrateToLatest } from '../../src/db/migrate';
import type { Database } from '../../src/db/schema';

const SERVER_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';

export interface TestDatabase {
  url: string;
  db: Kysely<Database>;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `nj_test_${randomBytes(6).toString('hex')}`;
  const url = `${SERVER_URL}/${name}`;
  await ensureDatabaseExists(url);
  const db = openDatabase(url);
  await migrateToLatest(db);
  return {
    url,
    db,
    async drop() {
      await db.destroy().catch(() => undefined);
      const admin = new pg.Client({ connectionString: `${SERVER_URL}/postgres` });
      await admin.connect();
      try {
        // pool.end() resolves before the server has seen every socket close: let them go before dropping,
        // so a forced drop only ever ends connections of processes the test killed.
        for (let tries = 0; tries < 50; tries++) {
          const { rows } = await admin.query('select count(*)::int as n from pg_stat_activity where datname = $1', [name]);
          if (rows[0].n === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        await admin.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await admin.end();
      }
    },
  };
}
