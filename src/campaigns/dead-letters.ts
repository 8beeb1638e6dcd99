// A campaign's dead letters: listing them, and re-driving them (their recipients go back to pending and
// the campaign sends them again).
import { sql, type Kysely } from 'kysely';
import type { CampaignStatus, Database } from '../db/schema';

export interface CampaignDeadLetter {
  recipientId: string;
  error: string;
  attempts: number;
  createdAt: Date;
  redrivenAt: Date | null;
}

export class CampaignCommandError extends Error {
  override name = 'CampaignCommandError';
}

/** Dead-letter references of campaign recipients are `<campaignId>/<recipientId>`. */
const referencePrefix = (campaignId: string) => `${campaignId}/`;

export async function listCampaignDeadLetters(
  db: Kysely<Database>,
  campaignId: string,
  options: { includeRedriven?: boolean; limit?: number } = {},
): Promise<{ deadLetters: CampaignDeadLetter[]; total: number }> {
  let query = db
    .selectFrom('dead_letters')
    .where('source', '=', 'campaign')
    .where('reference', 'like', `${referencePrefix(campaignId)}%`);
  if (!options.includeRedriven) query = query.where('redriven_at', 'is', null);
  const rows = await query.select(['reference', 'error', 'attempts', 'created_at', 'redriven_at']).orderBy('id').limit(options.limit ?? 100).execute();
  const { total } = await query.select(({ fn }) => fn.countAll<number>().as('total')).executeTakeFirstOrThrow();
  return {
    total: Number(total),
    deadLetters: rows.map((row) => ({
      recipientId: row.reference.slice(referencePrefix(campaignId).length),
      error: row.error,
      attempts: row.attempts,
      createdAt: row.created_at,
      redrivenAt: row.redriven_at,
    })),
  };
}

export interface RedriveResult {
  redriven: number;
  /** The campaign's status after the re-drive: `scheduled` when it had finished and must be started again. */
  status: CampaignStatus;
}

/**
 * Puts the dead-lettered recipients (all, or those named) back to pending with fresh attempts and marks
 * their dead letters re-driven, in one transaction. A finished campaign becomes `scheduled` and due now;
 * a running one sends them in its next pass. Locks the campaign row first, like the workflow's own
 * completion, so a re-drive is never lost between the last pass and `completed`.
 */
export async function redriveCampaignDeadLetters(db: Kysely<Database>, campaignId: string, recipientIds?: string[]): Promise<RedriveResult> {
  return db.transaction().execute(async (trx) => {
    const campaign = await sql<{ status: CampaignStatus }>`select status from notification_campaigns where id = ${campaignId} for update`.execute(trx);
    const status = campaign.rows[0]?.status;
    if (!status) throw new CampaignCommandError(`Campaign ${campaignId} does not exist`);
    if (status === 'cancelled' || status === 'failed' || status === 'draft') {
      throw new CampaignCommandError(`Campaign ${campaignId} is ${status}: its dead letters cannot be re-driven`);
    }
    await sql`select 1 from campaign_progress where campaign_id = ${campaignId} for update`.execute(trx);

    let letters = trx
      .updateTable('dead_letters')
      .set({ redriven_at: sql`now()` })
      .where('source', '=', 'campaign')
      .where('reference', 'like', `${referencePrefix(campaignId)}%`)
      .where('redriven_at', 'is', null);
    if (recipientIds) letters = letters.where('reference', 'in', recipientIds.length > 0 ? recipientIds.map((id) => `${referencePrefix(campaignId)}${id}`) : ['']);
    const redrivenLetters = await letters.returning('reference').execute();
    const ids = [...new Set(redrivenLetters.map((row) => row.reference.slice(referencePrefix(campaignId).length)))];
    if (ids.length === 0) return { redriven: 0, status };

    const reopened = await sql`
      update campaign_recipients set status = 'pending', attempts = 0, last_error = null, next_attempt_at = null, sent_at = null
      where campaign_id = ${campaignId} and recipient_id = any(${ids}::text[]) and status = 'failed'`.execute(trx);
    const count = Number(reopened.numAffectedRows ?? 0);
    await sql`update campaign_progress set failed = greatest(0, failed - ${count}), updated_at = now() where campaign_id = ${campaignId}`.execute(trx);
    if (status === 'completed' && count > 0) {
      await trx
        .updateTable('notification_campaigns')
        .set({ status: 'scheduled', scheduled_at: sql`now()`, completed_at: null })
        .where('id', '=', campaignId)
        .execute();
      return { redriven: count, status: 'scheduled' };
    }
    return { redriven: count, status };
  });
}
