// The PostgreSQL tables of the service, as Kysely sees them. Migrations in ./migrations create them.
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json = ColumnType<unknown, string, string>;

export type Channel = 'email' | 'webhook' | 'log';

export type CampaignStatus = 'draft' | 'scheduled' | 'processing' | 'paused' | 'completed' | 'cancelled' | 'failed';

export type RecipientStatus = 'pending' | 'sent' | 'failed';

export interface NotificationCampaignTable {
  id: ColumnType<string, string | undefined, never>;
  name: string;
  channel: Channel;
  subject: string | null;
  /** A template with `{{variable}}` placeholders. */
  body: string;
  status: CampaignStatus;
  scheduled_at: Timestamp | null;
  started_at: Timestamp | null;
  completed_at: Timestamp | null;
  created_at: Generated<Date>;
  /** Why a campaign ended `failed`. */
  failure_reason: string | null;
  /** Recipients per second; null means as fast as the batch concurrency allows. */
  rate_per_second: number | null;
}

/** The delivery ledger: one row per (campaign, recipient), ending in exactly one of sent / failed. */
export interface CampaignRecipientTable {
  campaign_id: string;
  recipient_id: string;
  address: string;
  variables: ColumnType<Record<string, unknown>, string | undefined, string>;
  status: Generated<RecipientStatus>;
  attempts: Generated<number>;
  last_error: string | null;
  sent_at: Timestamp | null;
  /** When a failed send may be tried again (transient failures back off). */
  next_attempt_at: Timestamp | null;
  created_at: Generated<Date>;
}

/**
 * Who is sending a campaign and how far it got. `claim_token` names the workflow run that claimed it;
 * `lease` the one batch attempt allowed to write the ledger; the counters move in the same
 * transaction as the ledger rows they count.
 */
export interface CampaignProgressTable {
  campaign_id: string;
  claim_token: string;
  lease: string | null;
  total: Generated<number>;
  sent: Generated<number>;
  failed: Generated<number>;
  claimed_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export type NotificationStatus = 'pending' | 'sent' | 'failed';

export interface NotificationTable {
  id: Generated<string>;
  /** `<routingKey>:<eventId>`: the same event never sends twice, whenever it is replayed. */
  dedupe_key: string;
  event_type: string;
  event_id: string;
  user_id: string | null;
  recipient: string;
  channel: Channel;
  status: Generated<NotificationStatus>;
  attempts: Generated<number>;
  last_error: string | null;
  created_at: Generated<Date>;
  sent_at: Timestamp | null;
}

export type DeadLetterSource = 'campaign' | 'notification' | 'bridge';

export interface DeadLetterTable {
  id: Generated<string>;
  source: DeadLetterSource;
  /** What the dead letter is about: a campaign recipient `<campaignId>/<recipientId>`, a dedupe key, a message id. */
  reference: string;
  payload: Json;
  error: string;
  attempts: number;
  created_at: Generated<Date>;
  redriven_at: Timestamp | null;
}

/** Exact per-run progress of the retention job, written in the same transaction as each deleted batch. */
export interface RetentionProgressTable {
  run_key: string;
  table_name: string;
  deleted_rows: Generated<string>;
  batches: Generated<number>;
  updated_at: Generated<Date>;
}

export interface Database {
  notification_campaigns: NotificationCampaignTable;
  campaign_recipients: CampaignRecipientTable;
  campaign_progress: CampaignProgressTable;
  notifications: NotificationTable;
  dead_letters: DeadLetterTable;
  retention_progress: RetentionProgressTable;
}

export type Campaign = Selectable<NotificationCampaignTable>;
export type NewCampaign = Insertable<NotificationCampaignTable>;
export type CampaignUpdate = Updateable<NotificationCampaignTable>;
export type CampaignRecipient = Selectable<CampaignRecipientTable>;
export type Notification = Selectable<NotificationTable>;
export type DeadLetter = Selectable<DeadLetterTable>;
