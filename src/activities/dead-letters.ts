// Dead letters: what exhausted its retries or could not be processed, kept with its reason for re-drive.
import type { Kysely } from 'kysely';
import type { Database, DeadLetterSource } from '../db/schema';
import { recordDeadLetter as countDeadLetter } from '../ops/metrics';

export interface DeadLetterRecord {
  source: DeadLetterSource;
  reference: string;
  payload: unknown;
  error: string;
  attempts: number;
}

export function createDeadLetterActivities({ db }: { db: Kysely<Database> }) {
  return {
    async recordDeadLetter(record: DeadLetterRecord): Promise<void> {
      await db
        .insertInto('dead_letters')
        .values({ ...record, payload: JSON.stringify(record.payload ?? null) })
        .execute();
      countDeadLetter(record.source);
    },
  };
}

export type DeadLetterActivities = ReturnType<typeof createDeadLetterActivities>;
