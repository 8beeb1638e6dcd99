import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { idempotencyKeyFor } from '../../src/campaigns/delivery';
import { startCampaignWorkflow } from '../../src/campaigns/start-workflow';
import { campaignWorkflowId, type CampaignResult } from '../../src/workflows/campaign-types';
import { waitFor } from '../support/wait';
import { spawnService, type ServiceProcess } from '../support/worker-process';
import { insertCampaign, resultWithin, readLedger, startCampaignHarness, webhookRecipients, type CampaignHarness } from './harness';

const RECIPIENTS = 3_000;
const RATE = 150;
const CONCURRENCY = 10;

describe('campaign through worker crashes', () => {
  let harness: CampaignHarness;
  let worker: ServiceProcess | undefined;

  before(async () => {
    harness = await startCampaignHarness({ CAMPAIGN_BATCH_SIZE: '100', CAMPAIGN_SEND_CONCURRENCY: String(CONCURRENCY) });
  });

  after(async () => {
    await worker?.kill('SIGKILL');
    await harness?.stop();
  });

  const spawnWorker = () => spawnService('worker', { ...harness.workerEnv, LOG_LEVEL: 'info' });

  it('keeps an exact ledger and delivers every idempotency key once when the worker is SIGKILLed three times', async () => {
    const recipients = webhookRecipients(harness.http, RECIPIENTS, 'k');
    harness.http.setDelay(5);
    const campaignId = await insertCampaign(harness.db, { channel: 'webhook', body: 'Hello {{name}}', recipients, ratePerSecond: RATE });
    worker = await spawnWorker();
    await startCampaignWorkflow(harness.temporal.client, campaignId);

    const delivered = () => harness.http.deliveries.length;
    for (const threshold of [600, 1_300, 2_000]) {
      await waitFor(() => delivered() >= threshold, { timeoutMs: 120_000, message: `${threshold} deliveries` });
      const signal = await worker.kill('SIGKILL');
      assert.equal(worker.child.signalCode, 'SIGKILL', `the worker exited by itself (${signal})`);
      const atKill = delivered();
      assert.ok(atKill < RECIPIENTS, 'the campaign finished before the kill');
      worker = await spawnWorker();
    }

    const result: CampaignResult = await resultWithin(harness.temporal.client.workflow.getHandle(campaignWorkflowId(campaignId)));
    assert.equal(result.outcome, 'completed');

    const ledger = await readLedger(harness.db, campaignId);
    assert.deepEqual(
      { status: ledger.status, sent: ledger.sent, failed: ledger.failed, pending: ledger.pending },
      { status: 'completed', sent: RECIPIENTS, failed: 0, pending: 0 },
    );
    assert.deepEqual(ledger.progress, { total: RECIPIENTS, sent: RECIPIENTS, failed: 0 });
    assert.equal(result.sent, RECIPIENTS);
    const attempts = await harness.db.selectFrom('campaign_recipients').select(({ fn }) => fn.max('attempts').as('max')).where('campaign_id', '=', campaignId).executeTakeFirstOrThrow();
    assert.equal(attempts.max, 1, 'a recipient was recorded more than once');

    const deliveries = harness.http.deliveriesByIdempotencyKey();
    assert.equal(deliveries.size, RECIPIENTS);
    for (const recipient of recipients) assert.equal(deliveries.get(idempotencyKeyFor(campaignId, recipient.id)), 1, `${recipient.id} not delivered exactly once`);
    // Sends cut off between the provider's answer and the ledger write are sent again with the same key;
    // the provider acknowledges them without delivering twice. The chunked ledger keeps that window small.
    const requests = harness.http.requests.length;
    assert.equal(requests, RECIPIENTS + harness.http.replays);
    assert.ok(harness.http.replays <= 3 * (500 + CONCURRENCY), `${harness.http.replays} resends`);

    // The rate held across batches and restarts: no two-second window saw more than the rate allows.
    const times = harness.http.requests.map((request) => request.receivedAt).sort((a, b) => a - b);
    let busiest = 0;
    for (let start = 0, end = 0; end < times.length; end += 1) {
      while (times[end]! - times[start]! >= 2_000) start += 1;
      busiest = Math.max(busiest, end - start + 1);
    }
    assert.ok(busiest <= 2 * RATE + CONCURRENCY, `${busiest} requests in two seconds at ${RATE}/s`);
    console.log(`crash test: ${requests} requests for ${RECIPIENTS} recipients (${harness.http.replays} resends deduplicated by key), busiest 2 s: ${busiest}`);
  });
});
