// What the operator CLI does to campaigns in the database: create one from a recipient file, schedule it,
// read its progress, and recover one whose workflow was terminated.
import { sql, type Kysely } from 'kysely';
import { assertTemplateCompiles, TemplateError } from '../channels/templates';
import type { CampaignStatus, Channel, Database } from '../db/schema';
import type { CampaignCounts } from '../workflows/campaign-types';
import { CampaignCommandError } from './dead-letters';
import { countRecipients } from './ledger';
import { readRecipientFile, RecipientFileError } from './recipient-file';

export interface NewCampaignFromFile {
  name: string;
  channel: Channel;
  subject?: string;
  body: string;
  recipientsFile: string;
  format?: string;
  /** Set: the campaign is `scheduled` for then; unset: it stays a `draft`. */
  scheduleAt?: Date;
  ratePerSecond?: number;
}

export interface CreatedCampaign {
  campaignId: string;
  recipients: number;
  status: CampaignStatus;
  scheduledAt: Date | null;
}

/** All or nothing: the campaign and every recipient, or (on any bad line) nothing at all. */
export async function createCampaignFromFile(db: Kysely<Database>, spec: NewCampaignFromFile): Promise<CreatedCampaign> {
  try {
    assertTemplateCompiles(spec.body);
    if (spec.subject) assertTemplateCompiles(spec.subject);
  } catch (error) {
    if (error instanceof TemplateError) throw new CampaignCommandError(error.message);
    throw error;
  }
  return db.transaction().execute(async (trx) => {
    const status: CampaignStatus = spec.scheduleAt ? 'scheduled' : 'draft';
    const campaign = await trx
      .insertInto('notification_campaigns')
      .values({
        name: spec.name,
        channel: spec.channel,
        subject: spec.subject ?? null,
        body: spec.body,
        status,
        scheduled_at: spec.scheduleAt ?? null,
        started_at: null,
        completed_at: null,
        failure_reason: null,
        rate_per_second: spec.ratePerSecond ?? null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const recipients = await readRecipientFile({
      file: spec.recipientsFile,
      format: spec.format,
      channel: spec.channel,
      body: spec.body,
      subject: spec.subject,
      onChunk: async (rows) => {
        await sql`
          insert into campaign_recipients (campaign_id, recipient_id, address, variables)
          select ${campaign.id}, r.id, r.address, r.variables::jsonb
          from unnest(${rows.map((row) => row.recipientId)}::text[], ${rows.map((row) => row.address)}::text[], ${rows.map((row) => JSON.stringify(row.variables))}::text[])
            as r(id, address, variables)`.execute(trx);
      },
    });
    return { campaignId: campaign.id, recipients, status, scheduledAt: spec.scheduleAt ?? null };
  });
}

export { RecipientFileError };

/** A draft (or a scheduled campaign being moved) becomes due at `at`. */
export async function scheduleCampaign(db: Kysely<Database>, campaignId: string, at: Date): Promise<void> {
  const updated = await db
    .updateTable('notification_campaigns')
    .set({ status: 'scheduled', scheduled_at: at })
    .where('id', '=', campaignId)
    .where('status', 'in', ['draft', 'scheduled'])
    .returning('id')
    .executeTakeFirst();
  if (updated) return;
  const campaign = await db.selectFrom('notification_campaigns').select('status').where('id', '=', campaignId).executeTakeFirst();
  if (!campaign) throw new CampaignCommandError(`Campaign ${campaignId} does not exist`);
  throw new CampaignCommandError(`Campaign ${campaignId} is ${campaign.status}: only a draft or scheduled campaign can be scheduled`);
}

export interface CampaignOverview extends CampaignCounts {
  campaignId: string;
  name: string;
  channel: Channel;
  status: CampaignStatus;
  pending: number;
  ratePerSecond: number | null;
  scheduledAt: Date | null;
  startedAt: Date | null;
  completedAt: Date | null;
  failureReason: string | null;
  deadLetters: number;
}

export async function readCampaignOverview(db: Kysely<Database>, campaignId: string): Promise<CampaignOverview> {
  const campaign = await db
    .selectFrom('notification_campaigns as c')
    .leftJoin('campaign_progress as p', 'p.campaign_id', 'c.id')
    .select(['c.name', 'c.channel', 'c.status', 'c.rate_per_second', 'c.scheduled_at', 'c.started_at', 'c.completed_at', 'c.failure_reason', 'p.total', 'p.sent', 'p.failed'])
    .where('c.id', '=', campaignId)
    .executeTakeFirst();
  if (!campaign) throw new CampaignCommandError(`Campaign ${campaignId} does not exist`);
  // Before the first claim there are no counters yet: count the ledger.
  const counts = campaign.total === null ? await countRecipients(db, campaignId) : { total: campaign.total, sent: campaign.sent!, failed: campaign.failed! };
  const deadLetters = await db
    .selectFrom('dead_letters')
    .select(({ fn }) => fn.countAll<number>().as('count'))
    .where('source', '=', 'campaign')
    .where('reference', 'like', `${campaignId}/%`)
    .where('redriven_at', 'is', null)
    .executeTakeFirstOrThrow();
  return {
    campaignId,
    name: campaign.name,
    channel: campaign.channel,
    status: campaign.status,
    ...counts,
    pending: Math.max(0, counts.total - counts.sent - counts.failed),
    ratePerSecond: campaign.rate_per_second,
    scheduledAt: campaign.scheduled_at,
    startedAt: campaign.started_at,
    completedAt: campaign.completed_at,
    failureReason: campaign.failure_reason,
    deadLetters: Number(deadLetters.count),
  };
}

/**
 * For a campaign left `processing` or `paused` by a workflow that no longer runs (terminated, say):
 * back to `scheduled`, so a new run can claim it. Recipients already sent or failed stay as they are.
 */
export async function releaseOrphanedCampaign(db: Kysely<Database>, campaignId: string): Promise<void> {
  const released = await db
    .updateTable('notification_campaigns')
    .set({ status: 'scheduled', scheduled_at: sql`now()` })
    .where('id', '=', campaignId)
    .where('status', 'in', ['processing', 'paused'])
    .returning('id')
    .executeTakeFirst();
  if (released) return;
  const campaign = await db.selectFrom('notification_campaigns').select('status').where('id', '=', campaignId).executeTakeFirst();
  if (!campaign) throw new CampaignCommandError(`Campaign ${campaignId} does not exist`);
  throw new CampaignCommandError(`Campaign ${campaignId} is ${campaign.status}: only a processing or paused campaign can be recovered`);
}
