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
      await db.destroy();
      const admin = new pg.Client({ connectionString: `${SERVER_URL}/postgres` });
      await admin.connect();
      try {
        await admin.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await admin.end();
      }
    },
  };
}
