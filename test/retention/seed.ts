// Rows on both sides of each retention cutoff, inserted with SQL as other services would.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../src/db/schema';

export interface SeedCounts {
  oldNotifications: number;
  freshNotifications: number;
  oldDeadLetters?: number;
  freshDeadLetters?: number;
  /** Recipients of a campaign completed long ago (expired). */
  oldFinishedRecipients?: number;
  /** Recipients of a campaign completed yesterday (kept). */
  recentFinishedRecipients?: number;
  /** Recipients of a campaign still processing, created long ago (kept: its campaign is not finished). */
  runningRecipients?: number;
}

async function campaignWithRecipients(db: Kysely<Database>, status: 'completed' | 'processing', completedDaysAgo: number | null, recipients: number) {
  const { rows } = await sql<{ id: string }>`
    insert into notification_campaigns (name, channel, subject, body, status, created_at, completed_at)
    values ('seed', 'log', 's', 'b', ${status}, now() - interval '400 days',
            ${completedDaysAgo === null ? null : sql`now() - make_interval(days => ${completedDaysAgo})`})
    returning id`.execute(db);
  const id = rows[0]!.id;
  await sql`insert into campaign_recipients (campaign_id, recipient_id, address, status)
    select ${id}, 'r' || n, 'user' || n || '@example.com', 'sent' from generate_series(1, ${recipients}) n`.execute(db);
  return id;
}

export async function seed(db: Kysely<Database>, counts: SeedCounts): Promise<void> {
  await sql`insert into notifications (dedupe_key, event_type, event_id, recipient, channel, status, created_at)
    select 'old:' || n, 'payment.completed', 'old' || n, 'user' || n || '@example.com', 'email', 'sent', now() - interval '120 days'
    from generate_series(1, ${counts.oldNotifications}) n`.execute(db);
  await sql`insert into notifications (dedupe_key, event_type, event_id, recipient, channel, status, created_at)
    select 'fresh:' || n, 'payment.completed', 'fresh' || n, 'user' || n || '@example.com', 'email', 'sent', now() - interval '1 day'
    from generate_series(1, ${counts.freshNotifications}) n`.execute(db);
  await sql`insert into dead_letters (source, reference, payload, error, attempts, created_at)
    select 'bridge', 'old' || n, '{}'::jsonb, 'boom', 1, now() - interval '60 days' from generate_series(1, ${counts.oldDeadLetters ?? 0}) n`.execute(db);
  await sql`insert into dead_letters (source, reference, payload, error, attempts, created_at)
    select 'bridge', 'fresh' || n, '{}'::jsonb, 'boom', 1, now() - interval '1 day' from generate_series(1, ${counts.freshDeadLetters ?? 0}) n`.execute(db);
  if (counts.oldFinishedRecipients) await campaignWithRecipients(db, 'completed', 365, counts.oldFinishedRecipients);
  if (counts.recentFinishedRecipients) await campaignWithRecipients(db, 'completed', 1, counts.recentFinishedRecipients);
  if (counts.runningRecipients) await campaignWithRecipients(db, 'processing', null, counts.runningRecipients);
}

export async function countRows(db: Kysely<Database>) {
  const count = async (query: ReturnType<typeof sql<{ n: number }>>) => Number((await query.execute(db)).rows[0]!.n);
  return {
    oldNotifications: await count(sql`select count(*)::int as n from notifications where dedupe_key like 'old:%'`),
    freshNotifications: await count(sql`select count(*)::int as n from notifications where dedupe_key like 'fresh:%'`),
    oldDeadLetters: await count(sql`select count(*)::int as n from dead_letters where reference like 'old%'`),
    freshDeadLetters: await count(sql`select count(*)::int as n from dead_letters where reference like 'fresh%'`),
    recipients: await count(sql`select count(*)::int as n from campaign_recipients`),
  };
}

export async function deletedSoFar(db: Kysely<Database>, table: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`select coalesce(sum(deleted_rows), 0)::int as n from retention_progress where table_name = ${table}`.execute(db);
  return Number(rows[0]!.n);
}
