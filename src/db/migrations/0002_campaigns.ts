import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // Who holds a campaign (the claiming workflow run), which batch attempt may write its ledger, and
  // exact counters written in the same transaction as each ledger chunk.
  await db.schema
    .createTable('campaign_progress')
    .addColumn('campaign_id', 'uuid', (col) => col.primaryKey().references('notification_campaigns.id').onDelete('cascade'))
    .addColumn('claim_token', 'text', (col) => col.notNull())
    .addColumn('lease', 'text')
    .addColumn('total', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('sent', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('failed', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('claimed_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  // Listing and re-driving one campaign's dead letters: references are `<campaignId>/<recipientId>`.
  await sql`create index dead_letters_campaign_reference on dead_letters (reference text_pattern_ops) where source = 'campaign'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists dead_letters_campaign_reference`.execute(db);
  await db.schema.dropTable('campaign_progress').ifExists().execute();
}
