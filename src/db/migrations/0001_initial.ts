import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('notification_campaigns')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('channel', 'text', (col) => col.notNull().check(sql`channel in ('email', 'webhook', 'log')`))
    .addColumn('subject', 'text')
    .addColumn('body', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) =>
      col
        .notNull()
        .defaultTo('draft')
        .check(sql`status in ('draft', 'scheduled', 'processing', 'paused', 'completed', 'cancelled', 'failed')`),
    )
    .addColumn('scheduled_at', 'timestamptz')
    .addColumn('started_at', 'timestamptz')
    .addColumn('completed_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('failure_reason', 'text')
    .addColumn('rate_per_second', 'double precision', (col) => col.check(sql`rate_per_second > 0`))
    .execute();
  // The dispatcher's query: due campaigns.
  await sql`create index notification_campaigns_due on notification_campaigns (scheduled_at) where status = 'scheduled'`.execute(db);
  // Retention's query: finished campaigns by age.
  await sql`create index notification_campaigns_finished on notification_campaigns (completed_at) where status in ('completed', 'cancelled', 'failed')`.execute(db);

  await db.schema
    .createTable('campaign_recipients')
    .addColumn('campaign_id', 'uuid', (col) => col.notNull().references('notification_campaigns.id').onDelete('cascade'))
    .addColumn('recipient_id', 'text', (col) => col.notNull())
    .addColumn('address', 'text', (col) => col.notNull())
    .addColumn('variables', 'jsonb', (col) => col.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('status', 'text', (col) => col.notNull().defaultTo('pending').check(sql`status in ('pending', 'sent', 'failed')`))
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addColumn('sent_at', 'timestamptz')
    .addColumn('next_attempt_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('campaign_recipients_pkey', ['campaign_id', 'recipient_id'])
    .execute();
  // The send cursor walks pending recipients of one campaign in key order.
  await sql`create index campaign_recipients_pending on campaign_recipients (campaign_id, recipient_id) where status = 'pending'`.execute(db);

  await db.schema
    .createTable('notifications')
    .addColumn('id', 'bigint', (col) => col.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('dedupe_key', 'text', (col) => col.notNull().unique())
    .addColumn('event_type', 'text', (col) => col.notNull())
    .addColumn('event_id', 'text', (col) => col.notNull())
    .addColumn('user_id', 'text')
    .addColumn('recipient', 'text', (col) => col.notNull())
    .addColumn('channel', 'text', (col) => col.notNull().check(sql`channel in ('email', 'webhook', 'log')`))
    .addColumn('status', 'text', (col) => col.notNull().defaultTo('pending').check(sql`status in ('pending', 'sent', 'failed')`))
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('sent_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('notifications_created_at').on('notifications').column('created_at').execute();

  await db.schema
    .createTable('dead_letters')
    .addColumn('id', 'bigint', (col) => col.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('source', 'text', (col) => col.notNull().check(sql`source in ('campaign', 'notification', 'bridge')`))
    .addColumn('reference', 'text', (col) => col.notNull())
    .addColumn('payload', 'jsonb', (col) => col.notNull())
    .addColumn('error', 'text', (col) => col.notNull())
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('redriven_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('dead_letters_created_at').on('dead_letters').column('created_at').execute();
  await db.schema.createIndex('dead_letters_source_reference').on('dead_letters').columns(['source', 'reference']).execute();

  await db.schema
    .createTable('retention_progress')
    .addColumn('run_key', 'text', (col) => col.notNull())
    .addColumn('table_name', 'text', (col) => col.notNull())
    .addColumn('deleted_rows', 'bigint', (col) => col.notNull().defaultTo(0))
    .addColumn('batches', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('retention_progress_pkey', ['run_key', 'table_name'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['retention_progress', 'dead_letters', 'notifications', 'campaign_recipients', 'notification_campaigns']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
