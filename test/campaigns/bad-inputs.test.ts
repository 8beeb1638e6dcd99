import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { sql } from 'kysely';
import { createCampaignActivities } from '../../src/activities/campaign';
import { createChannels } from '../../src/channels';
import { startCampaignWorkflow } from '../../src/campaigns/start-workflow';
import { createLogger } from '../../src/logger';
import { TASK_QUEUES } from '../../src/temporal/task-queues';
import { campaignWorkflowId, type CampaignResult, type ClaimResult } from '../../src/workflows/campaign-types';
import { testConfig } from '../support/config';
import { insertCampaign, readLedger, resultWithin, startCampaignHarness, type CampaignHarness } from './harness';

describe('campaign bad inputs', () => {
  let harness: CampaignHarness;

  before(async () => {
    harness = await startCampaignHarness({ CAMPAIGN_MAX_ATTEMPTS: '2' });
    await harness.startWorker();
  });

  after(async () => {
    await harness?.stop();
  });

  const run = async (campaignId: string) => {
    await startCampaignWorkflow(harness.temporal.client, campaignId);
    return resultWithin(harness.temporal.client.workflow.getHandle(campaignWorkflowId(campaignId)));
  };

  const failureOf = async (promise: Promise<unknown>): Promise<string> => {
    try {
      await promise;
    } catch (error) {
      assert.ok(error instanceof WorkflowFailedError, `expected a failed workflow, got ${error}`);
      return String(error.cause?.message);
    }
    assert.fail('the workflow did not fail');
  };

  it('refuses an unknown channel when the campaign is written', async () => {
    await assert.rejects(
      sql`insert into notification_campaigns (name, channel, body, status) values ('x', 'sms', 'hi', 'scheduled')`.execute(harness.db),
      /violates check constraint "notification_campaigns_channel_check"/,
    );
  });

  it('fails a campaign whose channel the worker cannot use, with the reason, sending nothing', async () => {
    // A worker without the webhook channel, and one without the signing secret webhooks need.
    const config = testConfig({ ...harness.workerEnv, WEBHOOK_SIGNING_SECRET: undefined });
    const logger = createLogger(config, 'campaign-test');
    const { webhook: _webhook, ...withoutWebhook } = createChannels(config, logger);
    for (const [channels, reason] of [
      [withoutWebhook, /Channel "webhook" is not available on this worker/],
      [createChannels(config, logger), /Channel "webhook" needs WEBHOOK_SIGNING_SECRET/],
    ] as const) {
      const campaignId = await insertCampaign(harness.db, { channel: 'webhook', body: 'hi', recipients: [{ id: 'a', address: harness.http.urlFor('a') }] });
      const activities = createCampaignActivities({ db: harness.db, channels, config, logger, client: harness.temporal.client });
      const claim: ClaimResult = await new MockActivityEnvironment().run(activities.claimCampaign, { campaignId, claimToken: 'test-claim' });
      assert.equal(claim.outcome, 'invalid');
      assert.match(claim.outcome === 'invalid' ? claim.reason : '', reason);
      const state = await readLedger(harness.db, campaignId);
      assert.equal(state.status, 'failed');
      assert.match(state.failureReason ?? '', reason);
    }
    assert.equal(harness.http.requests.length, 0);
  });

  it('fails a campaign with a malformed template, with the reason, and closes every recipient', async () => {
    const campaignId = await insertCampaign(harness.db, {
      channel: 'email',
      subject: 'Hi',
      body: '{{#if name}}unclosed block',
      recipients: [
        { id: 'a', address: 'a@example.test', variables: { name: 'A' } },
        { id: 'b', address: 'b@example.test', variables: { name: 'B' } },
      ],
    });
    const message = await failureOf(run(campaignId));
    assert.match(message, new RegExp(`Campaign ${campaignId} failed: Malformed template: Parse error on line 1`));
    const state = await readLedger(harness.db, campaignId);
    assert.deepEqual({ status: state.status, failed: state.failed, pending: state.pending, sent: state.sent }, { status: 'failed', failed: 2, pending: 0, sent: 0 });
    assert.match(state.failureReason ?? '', /^Malformed template/);
    assert.equal(harness.smtp.messages.length, 0);
  });

  it('fails only the recipients with a missing template variable or an invalid address, each with its reason, and sends the rest', async () => {
    const email = await insertCampaign(harness.db, {
      channel: 'email',
      subject: 'Hi {{name}}',
      body: 'Hello {{name}}, your code is {{code}}',
      recipients: [
        { id: 'good', address: 'good@example.test', variables: { name: 'G', code: 1 } },
        { id: 'no-code', address: 'nocode@example.test', variables: { name: 'N' } },
        { id: 'bad-address', address: 'not-an-address', variables: { name: 'B', code: 2 } },
      ],
    });
    const webhook = await insertCampaign(harness.db, {
      channel: 'webhook',
      body: 'Hello {{name}}',
      recipients: [
        { id: 'good', address: harness.http.urlFor('good'), variables: { name: 'G' } },
        { id: 'ftp', address: 'ftp://example.test/x', variables: { name: 'F' } },
        { id: 'garbage', address: 'no url at all', variables: { name: 'X' } },
      ],
    });
    for (const id of [email, webhook]) {
      const result: CampaignResult = await run(id);
      assert.deepEqual([result.outcome, result.sent, result.failed], ['completed', 1, 2]);
    }
    const failures = await harness.db
      .selectFrom('campaign_recipients')
      .select(['campaign_id', 'recipient_id', 'attempts', 'last_error'])
      .where('campaign_id', 'in', [email, webhook])
      .where('status', '=', 'failed')
      .orderBy('campaign_id')
      .orderBy('recipient_id')
      .execute();
    const reasons = Object.fromEntries(failures.map((row) => [`${row.campaign_id === email ? 'email' : 'webhook'}/${row.recipient_id}`, [row.attempts, row.last_error]]));
    assert.deepEqual(reasons, {
      'email/bad-address': [1, 'Invalid email address'],
      'email/no-code': [1, 'Template variable "code" is missing'],
      'webhook/ftp': [1, 'Webhook URL must be http or https'],
      'webhook/garbage': [1, 'Invalid webhook URL'],
    });
    const deadLetters = await harness.db.selectFrom('dead_letters').select(['reference', 'error']).where('source', '=', 'campaign').where('reference', 'like', `${email}/%`).orderBy('reference').execute();
    assert.deepEqual(deadLetters, [
      { reference: `${email}/bad-address`, error: 'Invalid email address' },
      { reference: `${email}/no-code`, error: 'Template variable "code" is missing' },
    ]);
    assert.deepEqual(harness.smtp.messages.map((mail) => mail.to), [['good@example.test']]);
  });

  it('fails fast with a clear error for a campaign id that does not exist or is not a UUID', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    assert.equal(await failureOf(run(missing)), `Campaign ${missing} does not exist`);

    const client = harness.temporal.client;
    const notUuid = client.workflow.execute('campaignWorkflow', { workflowId: 'campaign-abc', taskQueue: TASK_QUEUES.campaigns, args: [{ campaignId: 'abc' }] });
    assert.match(await failureOf(notUuid), /campaignWorkflow needs \{ campaignId: <uuid> \}, got \{"campaignId":"abc"\}/);

  });

  it('leaves no campaign workflow running after all of that', async () => {
    const running: string[] = [];
    for await (const execution of harness.temporal.client.workflow.list({ query: `ExecutionStatus = 'Running'` })) running.push(execution.workflowId);
    assert.deepEqual(running, []);
  });
});
