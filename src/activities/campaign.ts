// Campaign side effects: claiming, sending batches into the ledger, pausing, rate, closing, dispatching.
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import type { Channels } from '../channels/channel';
import { assertTemplateCompiles, TemplateError } from '../channels/templates';
import { LedgerWriter, Pacer, sendBatchInOrder } from '../campaigns/batch-sender';
import { createRecipientDelivery } from '../campaigns/delivery';
import {
  CampaignNotFoundError,
  ClaimLostError,
  claimCampaign as claimInLedger,
  closeCampaign,
  completeCampaign,
  findCampaign,
  findDueCampaigns as findDueInLedger,
  moveStatus,
  pendingSummary,
  persistRate,
  readProgress,
  recordOutcomes,
  rejectCampaign,
  selectDueRecipients,
  takeLease,
  type CampaignForSending,
} from '../campaigns/ledger';
import { startCampaignWorkflow } from '../campaigns/start-workflow';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { recordCampaignBatchDuration, recordCampaignRecipients, recordDeadLetter, recordSend } from '../ops/metrics';
import type { Database } from '../db/schema';
import { rateProblem } from '../workflows/campaign-messages';
import {
  isCampaignId,
  type CampaignErrorType,
  type ClaimRequest,
  type ClaimResult,
  type DispatchOutcome,
  type FinishRequest,
  type FinishResult,
  type SendBatchRequest,
  type SendBatchResult,
} from '../workflows/campaign-types';

export interface CampaignDependencies {
  db: Kysely<Database>;
  /** A worker may run without a channel; campaigns on it then fail with that reason. */
  channels: Partial<Channels>;
  config: Pick<Config, 'campaigns' | 'delivery'>;
  logger: Logger;
  client: Client;
}

/** What a retried sendBatch attempt resumes from. */
interface BatchHeartbeat {
  cursor: string | null;
  notBefore: number | null;
}

/** Ledger chunk size and the longest a partial chunk waits: bounds what a crash can make us resend. */
const LEDGER_CHUNK_MAX = 500;
const LEDGER_CHUNK_MAX_DELAY_MS = 250;
const CLOSE_CHUNK = 5_000;

function nonRetryable(type: CampaignErrorType, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}

function asFailure(error: unknown): unknown {
  if (error instanceof CampaignNotFoundError) return nonRetryable('CampaignNotFound', error.message);
  if (error instanceof ClaimLostError) return nonRetryable('ClaimLost', error.message);
  return error;
}

export function createCampaignActivities({ db, channels, config, logger, client }: CampaignDependencies) {
  const settings = config.campaigns;
  const retry = { maxAttempts: settings.maxAttempts, retryDelayMs: settings.retryDelayMs, retryMaxDelayMs: settings.retryMaxDelayMs };

  /** Why this campaign can never be sent as it is, or undefined when it can. */
  function campaignProblem(campaign: CampaignForSending): string | undefined {
    if (!channels[campaign.channel]) return `Channel "${campaign.channel}" is not available on this worker`;
    if (campaign.channel === 'webhook' && !config.delivery.webhookSigningSecret) {
      return 'Channel "webhook" needs WEBHOOK_SIGNING_SECRET: webhooks are never sent unsigned';
    }
    try {
      assertTemplateCompiles(campaign.body);
      if (campaign.subject) assertTemplateCompiles(campaign.subject);
    } catch (error) {
      if (error instanceof TemplateError) return error.message;
      throw error;
    }
    return undefined;
  }

  return {
    /** Takes a scheduled campaign for this run (see ledger.claimCampaign); rejects one that can never be sent. */
    async claimCampaign({ campaignId, claimToken }: ClaimRequest): Promise<ClaimResult> {
      if (!isCampaignId(campaignId)) throw nonRetryable('InvalidCampaignId', `Campaign id must be a UUID, got ${JSON.stringify(campaignId)}`);
      try {
        const campaign = await findCampaign(db, campaignId);
        if (!campaign) throw new CampaignNotFoundError(campaignId);
        const problem = campaign.status === 'scheduled' ? campaignProblem(campaign) : undefined;
        const attempt = problem ? await rejectCampaign(db, campaignId, claimToken, problem) : await claimInLedger(db, campaignId, claimToken);
        if (attempt.outcome === 'rejected') {
          logger.warn({ campaignId, reason: problem }, 'campaign rejected');
          return { outcome: 'invalid', reason: problem!, counts: attempt.counts };
        }
        if (attempt.outcome === 'claimed') {
          logger.info({ campaignId, total: attempt.counts.total }, 'campaign claimed');
          return { outcome: 'claimed', counts: attempt.counts, ratePerSecond: attempt.ratePerSecond, historyLimit: settings.historyLimit };
        }
        // Our own rejection, committed by an attempt whose answer was lost.
        if (attempt.status === 'failed' && (await readProgress(db, campaignId))?.claimToken === claimToken) {
          const current = await db.selectFrom('notification_campaigns').select('failure_reason').where('id', '=', campaignId).executeTakeFirst();
          return { outcome: 'invalid', reason: current?.failure_reason ?? 'failed', counts: attempt.counts };
        }
        logger.info({ campaignId, status: attempt.status }, 'campaign not claimed: nothing to send in this run');
        return attempt;
      } catch (error) {
        throw asFailure(error);
      }
    },

    /**
     * Sends the next due pending recipients after the cursor, recording outcomes in chunks as they
     * come and heartbeating the cursor, so a retried attempt resumes after the last recorded one.
     * On cancellation it stops starting sends, records those in flight, then reports cancelled.
     */
    async sendBatch(request: SendBatchRequest): Promise<SendBatchResult> {
      const context = Context.current();
      const { info } = context;
      const startedAt = Date.now();
      const { campaignId, claimToken } = request;
      const lease = `${info.workflowExecution?.runId ?? 'standalone'}/${info.activityId}/${info.attempt}`;
      const held = await takeLease(db, campaignId, claimToken, lease);
      if (!held) {
        const campaign = await findCampaign(db, campaignId);
        throw asFailure(campaign ? new ClaimLostError(campaignId, campaign.status) : new CampaignNotFoundError(campaignId));
      }
      const { campaign } = held;
      const idle = { sent: 0, failed: 0, retrying: 0, counts: held.counts, cursor: request.cursor, notBefore: request.notBefore, endOfPass: false };
      if (campaign.status === 'paused' || campaign.status === 'cancelled') return { ...idle, interruptedBy: campaign.status };
      if (campaign.status !== 'processing') throw asFailure(new ClaimLostError(campaignId, campaign.status));
      const sender = channels[campaign.channel];
      if (!sender) throw nonRetryable('ChannelUnavailable', `Channel "${campaign.channel}" is not available on this worker`);

      const resumed = info.attempt > 1 ? (info.heartbeatDetails as BatchHeartbeat | undefined) : undefined;
      const cursor = resumed ? resumed.cursor : request.cursor;
      const notBefore = Math.max(request.notBefore ?? 0, resumed?.notBefore ?? 0) || null;
      const recipients = await selectDueRecipients(db, campaignId, cursor, settings.batchSize);

      const sends = { sent: 0, failed: 0, retry: 0 };
      const pacer = new Pacer(request.ratePerSecond, notBefore);
      const heartbeat = () => context.heartbeat({ cursor: writer.cursor, notBefore: pacer.notBefore } satisfies BatchHeartbeat);
      const writer = new LedgerWriter(
        recipients,
        cursor,
        (outcomes) => recordOutcomes(db, { campaignId, lease, channel: campaign.channel, retry }, outcomes),
        { chunkSize: Math.min(settings.batchSize, LEDGER_CHUNK_MAX), maxDelayMs: LEDGER_CHUNK_MAX_DELAY_MS },
        heartbeat,
      );
      // Heartbeats also carry cancellation to us, so they keep going while sends are slow.
      const ticker = setInterval(heartbeat, 1_000);
      try {
        await sendBatchInOrder({
          recipients,
          concurrency: settings.sendConcurrency,
          pacer,
          deadline: startedAt + settings.batchMaxMs,
          shouldStop: () => context.cancellationSignal.aborted,
          deliver: createRecipientDelivery(campaign, sender, (outcome) => (sends[outcome] += 1)),
          writer,
          signal: context.cancellationSignal,
        });
      } finally {
        clearInterval(ticker);
      }
      // Counted here and added once per batch: a call into the SDK's native meter per send costs as much as the send.
      recordSend(campaign.channel, 'sent', sends.sent);
      recordSend(campaign.channel, 'failed', sends.failed);
      recordSend(campaign.channel, 'retried', sends.retry);
      recordCampaignRecipients('sent', writer.totals.sent);
      recordCampaignRecipients('failed', writer.totals.failed);
      recordDeadLetter('campaign', writer.totals.failed);
      recordCampaignBatchDuration(Date.now() - startedAt);
      if (writer.error) throw writer.error;
      heartbeat();
      if (context.cancellationSignal.aborted) {
        logger.info({ campaignId, sent: writer.totals.sent }, 'campaign batch stopped by cancellation');
        throw new CancelledFailure('Campaign batch cancelled after recording the sends in flight');
      }

      const endOfPass = writer.isComplete && recipients.length < settings.batchSize;
      const result: SendBatchResult = {
        cursor: writer.cursor,
        endOfPass,
        ...writer.totals,
        counts: writer.lastCounts ?? held.counts,
        notBefore: pacer.notBefore,
      };
      if (endOfPass) Object.assign(result, await pendingSummary(db, campaignId));
      logger.debug({ campaignId, recipients: recipients.length, ...writer.totals, ms: Date.now() - startedAt }, 'campaign batch done');
      return result;
    },

    /** Mirrors the workflow's pause state in the database; answers the status now stored. */
    async setCampaignPaused({ campaignId, claimToken, paused }: { campaignId: string; claimToken: string; paused: boolean }): Promise<string> {
      const [from, to] = paused ? (['processing', 'paused'] as const) : (['paused', 'processing'] as const);
      const status = await moveStatus(db, campaignId, claimToken, from, to);
      if (status) {
        logger.info({ campaignId, status }, paused ? 'campaign paused' : 'campaign resumed');
        return status;
      }
      const campaign = await findCampaign(db, campaignId);
      if (!campaign) throw asFailure(new CampaignNotFoundError(campaignId));
      return campaign.status;
    },

    /** Stores the rate so it holds for the next batches, after a restart and in later runs. */
    async persistCampaignRate({ campaignId, claimToken, ratePerSecond }: { campaignId: string; claimToken: string; ratePerSecond: number }): Promise<number> {
      const problem = rateProblem(ratePerSecond);
      if (problem) throw nonRetryable('InvalidRate', problem);
      if (!(await persistRate(db, campaignId, claimToken, ratePerSecond))) {
        const campaign = await findCampaign(db, campaignId);
        throw asFailure(campaign ? new ClaimLostError(campaignId, campaign.status) : new CampaignNotFoundError(campaignId));
      }
      logger.info({ campaignId, ratePerSecond }, 'campaign rate set');
      return ratePerSecond;
    },

    /**
     * `completed` once nothing is pending (else says how many are, e.g. after a re-drive); `cancelled`
     * or `failed` closes every still-pending recipient as failed with the reason.
     */
    async finishCampaign(request: FinishRequest): Promise<FinishResult> {
      const { campaignId, claimToken, outcome } = request;
      try {
        if (outcome === 'completed') {
          const result = await completeCampaign(db, campaignId, claimToken);
          if (result.finished) logger.info({ campaignId, ...result.counts }, 'campaign completed');
          return result;
        }
        const context = Context.current();
        let closed = 0;
        const reason = request.reason ?? (outcome === 'cancelled' ? 'cancelled' : 'failed');
        const result = await closeCampaign(db, { campaignId, claimToken, status: outcome, reason, chunkSize: CLOSE_CHUNK }, (count) => {
          closed += count;
          context.heartbeat({ closed });
        });
        logger.info({ campaignId, status: result.status, closedUnsent: closed }, `campaign ${outcome}`);
        return { finished: true, status: result.status, counts: result.counts };
      } catch (error) {
        throw asFailure(error);
      }
    },

    async findDueCampaigns(): Promise<string[]> {
      return findDueInLedger(db, settings.dispatchLimit);
    },

    async startCampaignWorkflows(campaignIds: string[]): Promise<DispatchOutcome[]> {
      const outcomes: DispatchOutcome[] = [];
      for (const campaignId of campaignIds) {
        outcomes.push({ campaignId, outcome: await startCampaignWorkflow(client, campaignId) });
      }
      return outcomes;
    },
  };
}

export type CampaignActivities = ReturnType<typeof createCampaignActivities>;
