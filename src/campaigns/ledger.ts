// The campaign delivery ledger in PostgreSQL: claims, leases, bulk outcome writes and exact counters.
// Every recipient leaves `pending` through one guarded UPDATE (`where status = 'pending'`), so whatever is
// retried or replayed, it is counted once, and the counters move in the same transaction as the rows.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Campaign, CampaignStatus, Channel, Database } from '../db/schema';
import type { CampaignCounts } from '../workflows/campaign-types';

type Db = Kysely<Database> | Transaction<Database>;

/** The batch attempt lost its lease to a newer attempt: it must stop and record nothing more. */
export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

export interface RecipientToSend {
  recipientId: string;
  address: string;
  variables: Record<string, unknown>;
  attempts: number;
}

export type RecipientOutcome =
  | { recipientId: string; outcome: 'sent' }
  /** `failed`: never deliverable as it is. `retry`: transient; failed once the attempts run out. */
  | { recipientId: string; outcome: 'failed' | 'retry'; error: string };

export interface RetryPolicy {
  maxAttempts: number;
  retryDelayMs: number;
  retryMaxDelayMs: number;
}

export interface ChunkResult {
  sent: number;
  failed: number;
  retrying: number;
  counts: CampaignCounts;
}

export type CampaignForSending = Pick<Campaign, 'id' | 'status' | 'channel' | 'subject' | 'body' | 'rate_per_second'>;

function toCounts(row: { total: number | string; sent: number | string; failed: number | string } | undefined): CampaignCounts {
  return { total: Number(row?.total ?? 0), sent: Number(row?.sent ?? 0), failed: Number(row?.failed ?? 0) };
}

export async function findCampaign(db: Db, campaignId: string): Promise<CampaignForSending | undefined> {
  return db
    .selectFrom('notification_campaigns')
    .select(['id', 'status', 'channel', 'subject', 'body', 'rate_per_second'])
    .where('id', '=', campaignId)
    .executeTakeFirst();
}

export async function readProgress(db: Db, campaignId: string): Promise<{ claimToken: string; counts: CampaignCounts } | undefined> {
  const row = await db.selectFrom('campaign_progress').selectAll().where('campaign_id', '=', campaignId).executeTakeFirst();
  return row ? { claimToken: row.claim_token, counts: toCounts(row) } : undefined;
}

/** Exact counts straight from the ledger (one scan of the campaign's rows). */
export async function countRecipients(db: Db, campaignId: string): Promise<CampaignCounts> {
  const { rows } = await sql<{ total: number; sent: number; failed: number }>`
    select count(*)::int as total,
           (count(*) filter (where status = 'sent'))::int as sent,
           (count(*) filter (where status = 'failed'))::int as failed
    from campaign_recipients where campaign_id = ${campaignId}`.execute(db);
  return toCounts(rows[0]);
}

/** Records `claimToken` as the campaign's holder, with counters recomputed from the ledger. */
async function writeClaim(trx: Transaction<Database>, campaignId: string, claimToken: string): Promise<CampaignCounts> {
  const counts = await countRecipients(trx, campaignId);
  await trx
    .insertInto('campaign_progress')
    .values({ campaign_id: campaignId, claim_token: claimToken, lease: null, ...counts })
    .onConflict((conflict) =>
      conflict.column('campaign_id').doUpdateSet({
        claim_token: claimToken,
        lease: null,
        total: counts.total,
        sent: counts.sent,
        failed: counts.failed,
        claimed_at: sql`now()`,
        updated_at: sql`now()`,
      }),
    )
    .execute();
  return counts;
}

export type ClaimAttempt =
  | { outcome: 'claimed'; counts: CampaignCounts; ratePerSecond: number | null }
  | { outcome: 'not-claimable'; status: CampaignStatus; counts: CampaignCounts };

/**
 * The one way into `processing`: a conditional UPDATE from `scheduled`. A retry by the same claimant
 * (same token) finds its own claim; anyone else finds the campaign taken and sends nothing.
 */
export async function claimCampaign(db: Kysely<Database>, campaignId: string, claimToken: string): Promise<ClaimAttempt> {
  return db.transaction().execute(async (trx) => {
    const claimed = await trx
      .updateTable('notification_campaigns')
      .set({ status: 'processing', started_at: sql`coalesce(started_at, now())`, completed_at: null, failure_reason: null })
      .where('id', '=', campaignId)
      .where('status', '=', 'scheduled')
      .returning(['rate_per_second'])
      .executeTakeFirst();
    if (claimed) {
      const counts = await writeClaim(trx, campaignId, claimToken);
      return { outcome: 'claimed', counts, ratePerSecond: claimed.rate_per_second };
    }
    return inspectClaim(trx, campaignId, claimToken);
  });
}

async function inspectClaim(db: Db, campaignId: string, claimToken: string): Promise<ClaimAttempt> {
  const row = await db
    .selectFrom('notification_campaigns as c')
    .leftJoin('campaign_progress as p', 'p.campaign_id', 'c.id')
    .select(['c.status', 'c.rate_per_second', 'p.claim_token', 'p.total', 'p.sent', 'p.failed'])
    .where('c.id', '=', campaignId)
    .executeTakeFirst();
  if (!row) throw new CampaignNotFoundError(campaignId);
  const counts = row.claim_token ? toCounts(row as { total: number; sent: number; failed: number }) : await countRecipients(db, campaignId);
  if (row.claim_token === claimToken && (row.status === 'processing' || row.status === 'paused')) {
    return { outcome: 'claimed', counts, ratePerSecond: row.rate_per_second };
  }
  return { outcome: 'not-claimable', status: row.status, counts };
}

export class CampaignNotFoundError extends Error {
  override name = 'CampaignNotFoundError';
  constructor(campaignId: string) {
    super(`Campaign ${campaignId} does not exist`);
  }
}

/** A scheduled campaign that can never be sent goes straight to `failed`, held by `claimToken` for the clean-up. */
export async function rejectCampaign(db: Kysely<Database>, campaignId: string, claimToken: string, reason: string): Promise<ClaimAttempt | { outcome: 'rejected'; counts: CampaignCounts }> {
  return db.transaction().execute(async (trx) => {
    const rejected = await trx
      .updateTable('notification_campaigns')
      .set({ status: 'failed', failure_reason: reason, started_at: sql`coalesce(started_at, now())`, completed_at: sql`now()` })
      .where('id', '=', campaignId)
      .where('status', '=', 'scheduled')
      .returning(['id'])
      .executeTakeFirst();
    if (!rejected) return inspectClaim(trx, campaignId, claimToken);
    return { outcome: 'rejected', counts: await writeClaim(trx, campaignId, claimToken) };
  });
}

export interface Lease {
  campaign: CampaignForSending;
  counts: CampaignCounts;
}

/**
 * Makes `lease` the only batch attempt allowed to write this campaign's ledger. A newer attempt
 * (Temporal retries an attempt it believes dead) takes the lease over; the old one is fenced out
 * at its next write.
 */
export async function takeLease(db: Kysely<Database>, campaignId: string, claimToken: string, lease: string): Promise<Lease | undefined> {
  const row = await db
    .updateTable('campaign_progress as p')
    .from('notification_campaigns as c')
    .set({ lease, updated_at: sql`now()` })
    .whereRef('c.id', '=', 'p.campaign_id')
    .where('p.campaign_id', '=', campaignId)
    .where('p.claim_token', '=', claimToken)
    .returning(['c.id', 'c.status', 'c.channel', 'c.subject', 'c.body', 'c.rate_per_second', 'p.total', 'p.sent', 'p.failed'])
    .executeTakeFirst();
  if (!row) return undefined;
  const { total, sent, failed, ...campaign } = row;
  return { campaign, counts: toCounts({ total, sent, failed }) };
}

/** The next due pending recipients after `cursor`, in key order. */
export async function selectDueRecipients(db: Db, campaignId: string, cursor: string | null, limit: number): Promise<RecipientToSend[]> {
  const after = cursor === null ? sql`` : sql`and recipient_id > ${cursor}`;
  const { rows } = await sql<{ recipient_id: string; address: string; variables: Record<string, unknown>; attempts: number }>`
    select recipient_id, address, variables, attempts from campaign_recipients
    where campaign_id = ${campaignId} and status = 'pending' ${after}
      and (next_attempt_at is null or next_attempt_at <= now())
    order by recipient_id
    limit ${limit}`.execute(db);
  return rows.map((row) => ({ recipientId: row.recipient_id, address: row.address, variables: row.variables ?? {}, attempts: row.attempts }));
}

/**
 * Writes a chunk of outcomes with one UPDATE ... FROM unnest(...), dead-letters the recipients that
 * end `failed`, and moves the counters: all in one transaction, fenced by the lease.
 */
export async function recordOutcomes(
  db: Kysely<Database>,
  target: { campaignId: string; lease: string; channel: Channel; retry: RetryPolicy },
  outcomes: RecipientOutcome[],
): Promise<ChunkResult> {
  const { campaignId, lease, channel, retry } = target;
  const ids = outcomes.map((item) => item.recipientId);
  const kinds = outcomes.map((item) => item.outcome);
  const errors = outcomes.map((item) => (item.outcome === 'sent' ? null : item.error));
  return db.transaction().execute(async (trx) => {
    const held = await sql`select 1 from campaign_progress where campaign_id = ${campaignId} and lease = ${lease} for update`.execute(trx);
    if (held.rows.length === 0) throw new LeaseLostError(`Campaign ${campaignId}: a newer batch attempt holds the ledger`);
    const { rows } = await sql<{ total: number; sent: number; failed: number; sent_now: number; failed_now: number; retrying_now: number }>`
      with v as (
        select * from unnest(${ids}::text[], ${kinds}::text[], ${errors}::text[]) as v(recipient_id, outcome, error)
      ),
      updated as (
        update campaign_recipients r set
          status = case
            when v.outcome = 'sent' then 'sent'
            when v.outcome = 'failed' or r.attempts + 1 >= ${retry.maxAttempts} then 'failed'
            else 'pending' end,
          attempts = r.attempts + 1,
          last_error = v.error,
          sent_at = case when v.outcome = 'sent' then now() else null end,
          next_attempt_at = case
            when v.outcome = 'retry' and r.attempts + 1 < ${retry.maxAttempts}
              then now() + least(${retry.retryDelayMs}::float8 * power(2, r.attempts), ${retry.retryMaxDelayMs}::float8) * interval '1 millisecond'
            else null end
        from v
        where r.campaign_id = ${campaignId} and r.recipient_id = v.recipient_id and r.status = 'pending'
        returning r.recipient_id, r.status, r.attempts, r.last_error
      ),
      dead as (
        insert into dead_letters (source, reference, payload, error, attempts)
        select 'campaign', ${campaignId}::text || '/' || recipient_id,
               jsonb_build_object('campaignId', ${campaignId}::text, 'recipientId', recipient_id, 'channel', ${channel}::text),
               coalesce(last_error, 'failed'), attempts
        from updated where status = 'failed'
      ),
      tally as (
        select (count(*) filter (where status = 'sent'))::int as sent_now,
               (count(*) filter (where status = 'failed'))::int as failed_now,
               (count(*) filter (where status = 'pending'))::int as retrying_now
        from updated
      ),
      progress as (
        update campaign_progress p set
          sent = p.sent + tally.sent_now, failed = p.failed + tally.failed_now, updated_at = now()
        from tally where p.campaign_id = ${campaignId}
        returning p.total, p.sent, p.failed
      )
      select progress.*, tally.* from progress, tally`.execute(trx);
    const row = rows[0];
    if (!row) throw new Error(`Campaign ${campaignId} has no progress row`);
    return { sent: row.sent_now, failed: row.failed_now, retrying: row.retrying_now, counts: toCounts(row) };
  });
}

/** At the end of a pass: how many are still pending, and in how many ms the earliest is due. */
export async function pendingSummary(db: Db, campaignId: string): Promise<{ pendingLeft: number; nextDueInMs: number }> {
  const { rows } = await sql<{ pending: number; next_due_ms: number | null }>`
    select count(*)::int as pending,
           greatest(0, ceil(extract(epoch from min(coalesce(next_attempt_at, now())) - now()) * 1000))::float8 as next_due_ms
    from campaign_recipients where campaign_id = ${campaignId} and status = 'pending'`.execute(db);
  return { pendingLeft: rows[0]?.pending ?? 0, nextDueInMs: Number(rows[0]?.next_due_ms ?? 0) };
}

/** Pause or resume in the database, only while `claimToken` holds the campaign. */
export async function moveStatus(db: Db, campaignId: string, claimToken: string, from: CampaignStatus, to: CampaignStatus): Promise<CampaignStatus | undefined> {
  const row = await db
    .updateTable('notification_campaigns as c')
    .from('campaign_progress as p')
    .set({ status: to })
    .whereRef('p.campaign_id', '=', 'c.id')
    .where('c.id', '=', campaignId)
    .where('p.claim_token', '=', claimToken)
    .where('c.status', 'in', [from, to])
    .returning(['c.status'])
    .executeTakeFirst();
  return row?.status;
}

export async function persistRate(db: Db, campaignId: string, claimToken: string, ratePerSecond: number): Promise<boolean> {
  const row = await db
    .updateTable('notification_campaigns as c')
    .from('campaign_progress as p')
    .set({ rate_per_second: ratePerSecond })
    .whereRef('p.campaign_id', '=', 'c.id')
    .where('c.id', '=', campaignId)
    .where('p.claim_token', '=', claimToken)
    .returning(['c.id'])
    .executeTakeFirst();
  return row !== undefined;
}

/** Locks the campaign, then its progress row (the order every writer uses), and checks the holder. */
async function lockHeld(trx: Transaction<Database>, campaignId: string, claimToken: string): Promise<CampaignStatus> {
  const campaign = await sql<{ status: CampaignStatus }>`select status from notification_campaigns where id = ${campaignId} for update`.execute(trx);
  const status = campaign.rows[0]?.status;
  if (!status) throw new CampaignNotFoundError(campaignId);
  const progress = await sql<{ claim_token: string }>`select claim_token from campaign_progress where campaign_id = ${campaignId} for update`.execute(trx);
  if (progress.rows[0]?.claim_token !== claimToken) throw new ClaimLostError(campaignId, status);
  return status;
}

export class ClaimLostError extends Error {
  override name = 'ClaimLostError';
  constructor(campaignId: string, status: CampaignStatus) {
    super(`Campaign ${campaignId} is no longer held by this workflow run (status ${status})`);
  }
}

/** `completed` only when nothing is pending any more; the counters are recomputed exactly. */
export async function completeCampaign(db: Kysely<Database>, campaignId: string, claimToken: string) {
  return db.transaction().execute(async (trx) => {
    const status = await lockHeld(trx, campaignId, claimToken);
    const counts = await countRecipients(trx, campaignId);
    const pendingLeft = counts.total - counts.sent - counts.failed;
    await trx.updateTable('campaign_progress').set({ ...counts, lease: null, updated_at: sql`now()` }).where('campaign_id', '=', campaignId).execute();
    if (pendingLeft > 0) return { finished: false as const, pendingLeft, counts };
    if (status === 'processing' || status === 'paused') {
      await trx.updateTable('notification_campaigns').set({ status: 'completed', completed_at: sql`now()` }).where('id', '=', campaignId).execute();
      return { finished: true as const, status: 'completed' as const, counts };
    }
    return { finished: true as const, status, counts };
  });
}

/**
 * Ends a campaign that will send nothing more (`cancelled`, or `failed` with a reason): the status
 * first, so no batch starts again, then every still-pending recipient becomes `failed` with the
 * reason, in chunks (a million pending rows is a normal case).
 */
export async function closeCampaign(
  db: Kysely<Database>,
  request: { campaignId: string; claimToken: string; status: 'cancelled' | 'failed'; reason: string; chunkSize: number },
  onChunk: (closed: number) => void,
) {
  const { campaignId, claimToken, status, reason, chunkSize } = request;
  await db.transaction().execute(async (trx) => {
    const current = await lockHeld(trx, campaignId, claimToken);
    await trx.updateTable('campaign_progress').set({ lease: null }).where('campaign_id', '=', campaignId).execute();
    if (current === 'processing' || current === 'paused') {
      await trx
        .updateTable('notification_campaigns')
        .set({ status, completed_at: sql`now()`, ...(status === 'failed' ? { failure_reason: reason } : {}) })
        .where('id', '=', campaignId)
        .execute();
    }
  });
  const recipientError = status === 'cancelled' ? 'Campaign cancelled before this recipient was sent' : `Campaign failed: ${reason}`;
  for (;;) {
    const closed = await db.transaction().execute(async (trx) => {
      await lockHeld(trx, campaignId, claimToken);
      const result = await sql`
        update campaign_recipients set status = 'failed', last_error = ${recipientError}, next_attempt_at = null
        where campaign_id = ${campaignId} and recipient_id in (
          select recipient_id from campaign_recipients
          where campaign_id = ${campaignId} and status = 'pending'
          order by recipient_id limit ${chunkSize})`.execute(trx);
      const count = Number(result.numAffectedRows ?? 0);
      if (count > 0) {
        await sql`update campaign_progress set failed = failed + ${count}, updated_at = now() where campaign_id = ${campaignId}`.execute(trx);
      }
      return count;
    });
    onChunk(closed);
    if (closed < chunkSize) break;
  }
  const campaign = await findCampaign(db, campaignId);
  return { status: campaign?.status ?? status, counts: await countRecipients(db, campaignId) };
}

export async function findDueCampaigns(db: Db, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('notification_campaigns')
    .select('id')
    .where('status', '=', 'scheduled')
    .where('scheduled_at', '<=', sql<Date>`now()`)
    .orderBy('scheduled_at')
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((row) => row.id);
}
