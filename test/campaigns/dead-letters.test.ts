import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { idempotencyKeyFor } from '../../src/campaigns/delivery';
import { startCampaignWorkflow } from '../../src/campaigns/start-workflow';
import { campaignWorkflowId } from '../../src/workflows/campaign-types';
import { waitFor } from '../support/wait';
import { runCampaignsCli } from './cli';
import { insertCampaign, readLedger, resultWithin, startCampaignHarness, waitForStatus, webhookRecipients, type CampaignHarness } from './harness';

const MAX_ATTEMPTS = 3;

describe('campaign dead letters', () => {
  let harness: CampaignHarness;
  let cliEnv: Record<string, string>;

  before(async () => {
    harness = await startCampaignHarness({ CAMPAIGN_MAX_ATTEMPTS: String(MAX_ATTEMPTS) });
    await harness.startWorker();
    cliEnv = { DATABASE_URL: harness.database.url, TEMPORAL_ADDRESS: harness.temporal.address, LOG_LEVEL: 'warn' };
  });

  after(async () => {
    await harness?.stop();
  });

  it('retries transient failures, dead-letters what still fails, and re-drives them through the CLI once the provider recovers', async () => {
    const recipients = webhookRecipients(harness.http, 40, 'd');
    const flaky = new Set(['d00003', 'd00007', 'd00013', 'd00017', 'd00023', 'd00027', 'd00033', 'd00037']);
    const rejected = new Set(['d00010', 'd00020']);
    harness.http.fail((recipientId) => (flaky.has(recipientId) ? 503 : rejected.has(recipientId) ? 422 : undefined));
    const campaignId = await insertCampaign(harness.db, { channel: 'webhook', body: 'Hello {{name}}', recipients });
    await startCampaignWorkflow(harness.temporal.client, campaignId);
    await resultWithin(harness.temporal.client.workflow.getHandle(campaignWorkflowId(campaignId)));

    const first = await readLedger(harness.db, campaignId);
    assert.deepEqual({ status: first.status, sent: first.sent, failed: first.failed, pending: first.pending }, { status: 'completed', sent: 30, failed: 10, pending: 0 });
    const failedRows = await harness.db
      .selectFrom('campaign_recipients')
      .select(['recipient_id', 'attempts', 'last_error'])
      .where('campaign_id', '=', campaignId)
      .where('status', '=', 'failed')
      .orderBy('recipient_id')
      .execute();
    for (const row of failedRows) {
      if (flaky.has(row.recipient_id)) assert.deepEqual([row.attempts, row.last_error], [MAX_ATTEMPTS, 'Webhook answered HTTP 503']);
      else assert.deepEqual([row.attempts, row.last_error], [1, 'Webhook answered HTTP 422'], 'a permanent failure is not retried');
    }
    const requests = harness.http.requestsByIdempotencyKey();
    for (const id of flaky) assert.equal(requests.get(idempotencyKeyFor(campaignId, id)), MAX_ATTEMPTS);
    for (const id of rejected) assert.equal(requests.get(idempotencyKeyFor(campaignId, id)), 1);

    const listed = await runCampaignsCli(['dead-letters', 'list', campaignId, '--json'], cliEnv);
    assert.equal(listed.code, 0, listed.stderr);
    const deadLetters = JSON.parse(listed.stdout) as { total: number; deadLetters: Array<{ recipientId: string; error: string; attempts: number }> };
    assert.equal(deadLetters.total, 10);
    assert.deepEqual(deadLetters.deadLetters.map((letter) => letter.recipientId).sort(), [...flaky, ...rejected].sort());
    const table = await runCampaignsCli(['dead-letters', 'list', campaignId], cliEnv);
    assert.match(table.stdout, /10 dead letters not re-driven/);
    assert.match(table.stdout, /d00010\s+1\s+.*Webhook answered HTTP 422/);

    // The provider recovers. First one recipient alone, then all the rest.
    harness.http.fail(undefined);
    const one = await runCampaignsCli(['dead-letters', 'redrive', campaignId, '--recipient', 'd00010'], cliEnv);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, new RegExp(`Re-drove 1 recipient of campaign ${campaignId}; campaign-${campaignId} started`));
    await waitFor(
      async () => {
        const state = await readLedger(harness.db, campaignId);
        return state.status === 'completed' && state.sent === 31;
      },
      { timeoutMs: 120_000, message: 'the first re-driven recipient to be sent' },
    );

    const rest = await runCampaignsCli(['dead-letters', 'redrive', campaignId], cliEnv);
    assert.equal(rest.code, 0, rest.stderr);
    assert.match(rest.stdout, /Re-drove 9 recipients/);
    const final = await waitForStatus(harness.db, campaignId, ['completed']);
    await waitFor(async () => (await readLedger(harness.db, campaignId)).sent === 40, { timeoutMs: 120_000, message: 'every re-driven recipient to be sent' });
    assert.deepEqual((await readLedger(harness.db, campaignId)).progress, { total: 40, sent: 40, failed: 0 });
    assert.equal(final.pending, 0);

    const deliveries = harness.http.deliveriesByIdempotencyKey();
    for (const recipient of recipients) assert.equal(deliveries.get(idempotencyKeyFor(campaignId, recipient.id)), 1, `${recipient.id} not delivered exactly once`);
    const after = harness.http.requestsByIdempotencyKey();
    for (const id of flaky) assert.equal(after.get(idempotencyKeyFor(campaignId, id)), MAX_ATTEMPTS + 1);

    const empty = await runCampaignsCli(['dead-letters', 'list', campaignId, '--json'], cliEnv);
    assert.equal(JSON.parse(empty.stdout).total, 0);
    const history = JSON.parse((await runCampaignsCli(['dead-letters', 'list', campaignId, '--all', '--json'], cliEnv)).stdout);
    assert.equal(history.total, 10);
    assert.ok(history.deadLetters.every((letter: { redrivenAt: string | null }) => letter.redrivenAt !== null));
    const progress = await runCampaignsCli(['progress', campaignId], cliEnv);
    assert.match(progress.stdout, /status\s+completed/);
    assert.match(progress.stdout, /sent\s+40\n/);
    assert.match(progress.stdout, /dead letters\s+0 not re-driven/);
  });

  it('refuses to re-drive a cancelled campaign, and says so', async () => {
    const campaignId = await insertCampaign(harness.db, { channel: 'log', body: 'x', status: 'cancelled', recipients: [{ id: 'c1', address: 'someone' }] });
    const result = await runCampaignsCli(['dead-letters', 'redrive', campaignId], cliEnv);
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`error: Campaign ${campaignId} is cancelled: its dead letters cannot be re-driven`));
  });
});
