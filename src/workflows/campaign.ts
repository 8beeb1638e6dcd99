// One campaign, start to finish: claim it, send batch after batch into the ledger, obey pause / resume /
// setRate / cancel, retry transient failures in later passes, and continue as new before history grows.
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { CampaignActivities } from '../activities/campaign';
import { CAMPAIGN_ID } from '../temporal/search-attributes';
import { pauseSignal, progressQuery, rateProblem, resumeSignal, setRateUpdate } from './campaign-messages';
import {
  CAMPAIGN_NON_RETRYABLE,
  isCampaignId,
  type CampaignCarryOver,
  type CampaignCounts,
  type CampaignOutcome,
  type CampaignProgress,
  type CampaignResult,
  type CampaignStatus,
  type CampaignWorkflowInput,
} from './campaign-types';

const retry = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  // Database or provider outages are waited out; only what retrying cannot fix stops the campaign.
  nonRetryableErrorTypes: [...CAMPAIGN_NON_RETRYABLE],
};

const { claimCampaign, setCampaignPaused, persistCampaignRate } = proxyActivities<CampaignActivities>({
  startToCloseTimeout: '1 minute',
  retry,
});

const { sendBatch } = proxyActivities<CampaignActivities>({
  // A batch stops starting sends after CAMPAIGN_BATCH_MAX_MS; the heartbeat watches liveness meanwhile.
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '10 seconds',
  // On cancel the batch records its sends in flight before the campaign is closed.
  cancellationType: 'WAIT_CANCELLATION_COMPLETED',
  retry,
});

const { finishCampaign } = proxyActivities<CampaignActivities>({
  // Closing a cancelled million-recipient campaign touches every pending row, in heartbeated chunks.
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry,
});

function pendingOf(counts: CampaignCounts): number {
  return Math.max(0, counts.total - counts.sent - counts.failed);
}

function failureType(error: unknown): string | undefined {
  return error instanceof ActivityFailure && error.cause instanceof ApplicationFailure ? (error.cause.type ?? undefined) : undefined;
}

export async function campaignWorkflow(input: CampaignWorkflowInput): Promise<CampaignResult> {
  const campaignId = input?.campaignId;
  if (!isCampaignId(campaignId)) {
    throw ApplicationFailure.create({ type: 'InvalidCampaignId', nonRetryable: true, message: `campaignWorkflow needs { campaignId: <uuid> }, got ${JSON.stringify(input ?? null)}` });
  }
  const info = workflowInfo();
  if (info.typedSearchAttributes.get(CAMPAIGN_ID) === undefined) upsertSearchAttributes([{ key: CAMPAIGN_ID, value: campaignId }]);

  let held: CampaignCarryOver | undefined = input.carryOver ? { ...input.carryOver } : undefined;
  let status: CampaignProgress['status'] = held ? (held.paused ? 'paused' : 'processing') : 'claiming';
  let counts: CampaignCounts = held?.counts ?? { total: 0, sent: 0, failed: 0 };
  let pauseRequested = held?.paused ?? false;
  let isSending = held !== undefined;
  let failureReason: string | undefined;
  const run = (held?.previousRuns ?? 0) + 1;

  setHandler(progressQuery, () => ({
    status,
    ...counts,
    pending: pendingOf(counts),
    ratePerSecond: held?.ratePerSecond ?? null,
    campaignId,
    batches: held?.batches ?? 0,
    run,
    ...(failureReason ? { failureReason } : {}),
  }));
  setHandler(pauseSignal, () => void (pauseRequested = true));
  setHandler(resumeSignal, () => void (pauseRequested = false));

  // Rate writes run one after another, each storing the latest rate, so the database ends on it.
  let rateWrites: Promise<unknown> = Promise.resolve();
  setHandler(
    setRateUpdate,
    async (rate) => {
      await condition(() => held !== undefined || status !== 'claiming');
      const campaign = held;
      if (!campaign || !isSending) throw ApplicationFailure.create({ type: 'CampaignNotSending', message: `Campaign ${campaignId} is not sending (status ${status})` });
      campaign.ratePerSecond = rate;
      const write = rateWrites.then(() => persistCampaignRate({ campaignId, claimToken: campaign.claimToken, ratePerSecond: campaign.ratePerSecond! }));
      rateWrites = write.catch(() => undefined);
      await write;
      return campaign.ratePerSecond!;
    },
    {
      validator: (rate) => {
        const problem = rateProblem(rate);
        if (problem) throw new Error(problem);
        if (status !== 'claiming' && !isSending) throw new Error(`Campaign ${campaignId} is not sending any more (status ${status})`);
      },
    },
  );

  const result = (outcome: CampaignOutcome, finalStatus: CampaignStatus, reason?: string): CampaignResult => ({
    campaignId,
    outcome,
    status: finalStatus,
    ...counts,
    pending: pendingOf(counts),
    batches: held?.batches ?? 0,
    runs: run,
    ...(reason ? { reason } : {}),
  });

  /** Ends a campaign that sends nothing more: still-pending recipients become failed with the reason. */
  const close = async (campaign: CampaignCarryOver, outcome: 'cancelled' | 'failed', reason?: string) => {
    isSending = false;
    const closed = await CancellationScope.nonCancellable(() => finishCampaign({ campaignId, claimToken: campaign.claimToken, outcome, reason }));
    counts = closed.counts;
    status = closed.finished ? closed.status : outcome;
  };

  try {
    if (!held) {
      const claimToken = `${info.workflowId}/${info.runId}`;
      // Not cancellable: a claim committed in the database must be known here, to be released on cancel.
      const claim = await CancellationScope.nonCancellable(() => claimCampaign({ campaignId, claimToken }));
      counts = claim.counts;
      if (claim.outcome === 'not-claimable') {
        status = claim.status;
        log.info('campaign not claimed: another run holds it or it is not scheduled', { campaignId, status: claim.status });
        return result('not-claimed', claim.status);
      }
      held = {
        claimToken,
        cursor: null,
        pass: 1,
        notBefore: null,
        ratePerSecond: claim.outcome === 'claimed' ? claim.ratePerSecond : null,
        paused: false,
        counts,
        historyLimit: claim.outcome === 'claimed' ? claim.historyLimit : 0,
        batches: 0,
        previousRuns: 0,
      };
      if (claim.outcome === 'invalid') {
        failureReason = claim.reason;
        await close(held, 'failed', claim.reason);
        throw ApplicationFailure.create({ type: 'CampaignFailed', nonRetryable: true, message: `Campaign ${campaignId} failed: ${claim.reason}` });
      }
      status = 'processing';
      isSending = true;
    }
    return await sendUntilDone(held);
  } catch (error) {
    const type = failureType(error);
    const cause = (error as ActivityFailure).cause?.message;
    if (!held || !isSending) {
      // E.g. the claim found no such campaign: the workflow fails with that sentence, not "activity failed".
      if (type) throw ApplicationFailure.create({ type, nonRetryable: true, message: cause ?? type });
      throw error;
    }
    if (isCancellation(error)) {
      await close(held, 'cancelled');
      log.info('campaign cancelled', { campaignId, sent: counts.sent });
      throw error;
    }
    if (type === 'ClaimLost' || type === 'CampaignNotFound') {
      isSending = false;
      throw ApplicationFailure.create({ type, nonRetryable: true, message: cause ?? type });
    }
    if (type) {
      failureReason = cause ?? type;
      await close(held, 'failed', failureReason);
      throw ApplicationFailure.create({ type: 'CampaignFailed', nonRetryable: true, message: `Campaign ${campaignId} failed: ${failureReason}` });
    }
    throw error;
  }

  async function sendUntilDone(campaign: CampaignCarryOver): Promise<CampaignResult> {
    const mustContinueAsNew = () => {
      const current = workflowInfo();
      return current.historyLength >= campaign.historyLimit || current.continueAsNewSuggested;
    };
    for (;;) {
      if (pauseRequested) {
        const stored = await setCampaignPaused({ campaignId, claimToken: campaign.claimToken, paused: true });
        if (stored === 'cancelled') return closedOutside(campaign);
        status = 'paused';
        campaign.paused = true;
        await condition(() => !pauseRequested || mustContinueAsNew());
        if (pauseRequested) return continueRun(campaign);
        await setCampaignPaused({ campaignId, claimToken: campaign.claimToken, paused: false });
        status = 'processing';
        campaign.paused = false;
        continue;
      }
      if (mustContinueAsNew()) return continueRun(campaign);
      // A slow rate: wait for the next send slot on a timer rather than inside an activity.
      const untilSlot = campaign.notBefore === null ? 0 : campaign.notBefore - Date.now();
      if (untilSlot > 1_000) {
        await condition(() => pauseRequested, untilSlot);
        continue;
      }

      const batch = await sendBatch({
        campaignId,
        claimToken: campaign.claimToken,
        cursor: campaign.cursor,
        ratePerSecond: campaign.ratePerSecond,
        notBefore: campaign.notBefore,
      });
      campaign.batches += 1;
      counts = campaign.counts = batch.counts;
      campaign.cursor = batch.cursor;
      campaign.notBefore = batch.notBefore;
      if (batch.interruptedBy === 'paused') {
        pauseRequested = true;
        continue;
      }
      if (batch.interruptedBy === 'cancelled') return closedOutside(campaign);
      if (!batch.endOfPass) continue;

      if (batch.pendingLeft === 0) {
        const finished = await finishCampaign({ campaignId, claimToken: campaign.claimToken, outcome: 'completed' });
        counts = campaign.counts = finished.counts;
        if (finished.finished) {
          isSending = false;
          status = finished.status;
          log.info('campaign completed', { campaignId, ...counts, batches: campaign.batches, runs: run });
          return result('completed', finished.status);
        }
      }
      // Next pass: recipients waiting for a retry, or re-driven meanwhile, from the start of the key range.
      campaign.cursor = null;
      campaign.pass += 1;
      const didWork = batch.sent + batch.failed + batch.retrying > 0;
      const nextDue = batch.nextDueInMs ?? 0;
      if (nextDue > 0 || !didWork) await condition(() => pauseRequested, Math.max(nextDue, 1_000));
    }
  }

  /** Cancelled in the database by another service: honour it as a cancel. */
  async function closedOutside(campaign: CampaignCarryOver): Promise<CampaignResult> {
    await close(campaign, 'cancelled');
    log.info('campaign cancelled in the database', { campaignId, sent: counts.sent });
    return result('cancelled', 'cancelled');
  }

  async function continueRun(campaign: CampaignCarryOver): Promise<never> {
    await condition(allHandlersFinished);
    log.info('campaign continues as new', { campaignId, batches: campaign.batches, run });
    return continueAsNew<typeof campaignWorkflow>({ campaignId, carryOver: { ...campaign, counts, paused: pauseRequested, previousRuns: run } });
  }
}
