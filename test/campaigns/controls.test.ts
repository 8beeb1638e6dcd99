import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { idempotencyKeyFor } from '../../src/campaigns/delivery';
import { startCampaignWorkflow } from '../../src/campaigns/start-workflow';
import { pauseSignal, progressQuery, resumeSignal, setRateUpdate } from '../../src/workflows/campaign-messages';
import { campaignWorkflowId, type CampaignResult } from '../../src/workflows/campaign-types';
import { waitFor } from '../support/wait';
import { insertCampaign, resultWithin, readLedger, staysTrue, startCampaignHarness, waitForStatus, webhookRecipients, type CampaignHarness } from './harness';

const BATCH_MAX_MS = 1_000;
const CONCURRENCY = 5;

describe('campaign controls', () => {
  let harness: CampaignHarness;

  before(async () => {
    harness = await startCampaignHarness({
      CAMPAIGN_BATCH_SIZE: '10',
      CAMPAIGN_BATCH_MAX_MS: String(BATCH_MAX_MS),
      CAMPAIGN_SEND_CONCURRENCY: String(CONCURRENCY),
      CAMPAIGN_HISTORY_LIMIT: '200',
    });
    await harness.startWorker();
  });

  after(async () => {
    await harness?.stop();
  });

  const delivered = (campaignId: string) => harness.http.deliveries.filter((delivery) => delivery.idempotencyKey.startsWith(`${campaignId}:`)).length;

  async function start(recipients: number, prefix: string, ratePerSecond: number | null) {
    const campaignId = await insertCampaign(harness.db, {
      channel: 'webhook',
      body: 'Hello {{name}}',
      recipients: webhookRecipients(harness.http, recipients, prefix),
      ratePerSecond,
    });
    await startCampaignWorkflow(harness.temporal.client, campaignId);
    return { campaignId, handle: harness.temporal.client.workflow.getHandle(campaignWorkflowId(campaignId)) };
  }

  it('pause stops sending within one batch, is paused in the database, and resume finishes the campaign', async () => {
    const rate = 20;
    const { campaignId, handle } = await start(120, 'pause', rate);
    await waitFor(() => delivered(campaignId) >= 10, { message: 'the first deliveries' });

    const atPause = delivered(campaignId);
    await handle.signal(pauseSignal);
    const paused = await waitForStatus(harness.db, campaignId, ['paused'], 30_000);
    const afterPause = delivered(campaignId);
    // At most the batch in flight: what its time budget lets it start at this rate, plus the sends already started.
    assert.ok(afterPause - atPause <= rate * (BATCH_MAX_MS / 1000) + CONCURRENCY, `sent ${afterPause - atPause} after the pause signal`);
    await staysTrue(() => delivered(campaignId) === afterPause, 2_500, 'no delivery while paused');
    const progress = await handle.query(progressQuery);
    assert.equal(progress.status, 'paused');
    assert.equal(progress.sent, afterPause);
    assert.equal(progress.pending, 120 - afterPause);
    assert.equal(paused.sent, afterPause);

    await handle.signal(resumeSignal);
    const result: CampaignResult = await resultWithin(handle);
    assert.equal(result.outcome, 'completed');
    assert.equal(result.sent, 120);
    assert.equal((await readLedger(harness.db, campaignId)).status, 'completed');
    const counts = harness.http.requestsByIdempotencyKey();
    for (let index = 1; index <= 120; index += 1) {
      assert.equal(counts.get(idempotencyKeyFor(campaignId, `pause${String(index).padStart(5, '0')}`)), 1);
    }
  });

  it('setRate rejects 0, negative and non-numeric rates, and a valid rate changes the pace and is stored', async () => {
    const slowRate = 4;
    const { campaignId, handle } = await start(300, 'rate', slowRate);

    for (const bad of [0, -5, 'fast' as unknown as number]) {
      await assert.rejects(handle.executeUpdate(setRateUpdate, { args: [bad] }), (error: Error) => {
        assert.ok(error instanceof WorkflowUpdateFailedError, `expected a rejected update, got ${error}`);
        assert.match(String(error.cause?.message), /setRate (needs a rate greater than 0|takes a number)/);
        return true;
      });
    }
    assert.equal((await handle.query(progressQuery)).ratePerSecond, slowRate);

    await waitFor(() => delivered(campaignId) >= 10, { message: 'ten deliveries at the slow rate' });
    const slow = harness.http.requests.filter((request) => request.idempotencyKey.startsWith(`${campaignId}:`)).map((request) => request.receivedAt);
    const slowInterval = (slow[slow.length - 1]! - slow[0]!) / (slow.length - 1);
    // Arrival times jitter on a busy machine; the pace itself is what matters.
    assert.ok(slowInterval >= (1000 / slowRate) * 0.75, `sent every ${slowInterval.toFixed(0)} ms at ${slowRate}/s`);

    const fastRate = 200;
    assert.equal(await handle.executeUpdate(setRateUpdate, { args: [fastRate] }), fastRate);
    const stored = await harness.db.selectFrom('notification_campaigns').select('rate_per_second').where('id', '=', campaignId).executeTakeFirstOrThrow();
    assert.equal(stored.rate_per_second, fastRate);
    const changedAt = Date.now();
    const result: CampaignResult = await resultWithin(handle);
    assert.equal(result.sent, 300);
    // ~290 left: at the old rate that is over a minute; at the new one a couple of seconds.
    assert.ok(Date.now() - changedAt < 40_000, `the rest took ${Date.now() - changedAt} ms after setRate`);
  });

  it('cancel stops within one batch, leaves the campaign cancelled, and sends nothing more', async () => {
    const rate = 20;
    const { campaignId, handle } = await start(200, 'cancel', rate);
    await waitFor(() => delivered(campaignId) >= 10, { message: 'the first deliveries' });
    const atCancel = delivered(campaignId);
    await handle.cancel();
    await assert.rejects(resultWithin(handle), (error: Error) => error instanceof WorkflowFailedError && /cancel/i.test(String(error.cause?.name ?? error.cause?.message)));

    const state = await readLedger(harness.db, campaignId);
    const sent = delivered(campaignId);
    assert.equal(state.status, 'cancelled');
    assert.ok(sent - atCancel <= rate * (BATCH_MAX_MS / 1000) + CONCURRENCY, `sent ${sent - atCancel} after the cancel`);
    assert.equal(state.sent, sent, 'the ledger records exactly what was delivered');
    assert.equal(state.pending, 0);
    assert.equal(state.failed, 200 - sent);
    assert.deepEqual(state.progress, { total: 200, sent, failed: 200 - sent });
    const reasons = await harness.db.selectFrom('campaign_recipients').select('last_error').distinct().where('campaign_id', '=', campaignId).where('status', '=', 'failed').execute();
    assert.deepEqual(reasons.map((row) => row.last_error), ['Campaign cancelled before this recipient was sent']);
    await staysTrue(() => delivered(campaignId) === sent && harness.http.requests.filter((r) => r.idempotencyKey.startsWith(`${campaignId}:`)).length === sent, 2_000, 'no request after the cancel');
  });

  it('continues as new before the history grows, carrying cursor, counters, rate and pause across runs', async () => {
    // Slow enough (about ten seconds) that the pause lands in the second run, well before the end.
    const { campaignId, handle } = await start(1_000, 'long', 100);
    await waitFor(async () => (await handle.query(progressQuery)).run >= 2, { timeoutMs: 90_000, message: 'a second run' });
    await handle.signal(pauseSignal);
    await waitForStatus(harness.db, campaignId, ['paused'], 30_000);
    const pausedAt = delivered(campaignId);
    // Rate changes while paused add history until the run continues as new, still paused.
    const pausedRun = (await handle.query(progressQuery)).run;
    for (let rate = 1_000; (await handle.query(progressQuery)).run === pausedRun; rate += 1) {
      assert.ok(rate < 1_060, 'the paused run never continued as new');
      assert.equal(await handle.executeUpdate(setRateUpdate, { args: [rate] }), rate);
    }
    const continued = await waitFor(async () => {
      const progress = await handle.query(progressQuery);
      return progress.run > pausedRun ? progress : undefined;
    });
    assert.equal(continued.status, 'paused');
    assert.equal(continued.sent, pausedAt);
    assert.equal((await readLedger(harness.db, campaignId)).status, 'paused');
    await staysTrue(() => delivered(campaignId) === pausedAt, 1_500, 'no delivery while paused');
    const rateInForce = continued.ratePerSecond;
    await handle.signal(resumeSignal);

    const result: CampaignResult = await resultWithin(handle);
    assert.equal(result.outcome, 'completed');
    assert.equal(result.sent, 1_000);
    assert.ok(result.runs >= 3, `only ${result.runs} runs`);
    assert.ok(result.batches >= 100, `${result.batches} batches`);
    const counts = harness.http.requestsByIdempotencyKey();
    for (let index = 1; index <= 1_000; index += 1) assert.equal(counts.get(idempotencyKeyFor(campaignId, `long${String(index).padStart(5, '0')}`)), 1);

    let runs = 0;
    for await (const execution of harness.temporal.client.workflow.list({ query: `WorkflowId = '${campaignWorkflowId(campaignId)}'` })) {
      runs += 1;
      const history = await harness.temporal.client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
      // The limit is checked between batches; a batch and its workflow task add a handful of events.
      assert.ok((history.events?.length ?? 0) <= 200 + 20, `run ${execution.runId} has ${history.events?.length} events`);
    }
    assert.equal(runs, result.runs);
    const stored = await harness.db.selectFrom('notification_campaigns').select('rate_per_second').where('id', '=', campaignId).executeTakeFirstOrThrow();
    assert.equal(stored.rate_per_second, rateInForce);
  });
});
