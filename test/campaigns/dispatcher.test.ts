import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { messageIdFor } from '../../src/channels/email';
import { idempotencyKeyFor } from '../../src/campaigns/delivery';
import { startCampaignWorkflow } from '../../src/campaigns/start-workflow';
import { CAMPAIGN_ID } from '../../src/temporal/search-attributes';
import { ensureSchedules, SCHEDULE_IDS } from '../../src/temporal/schedules';
import { TASK_QUEUES } from '../../src/temporal/task-queues';
import { campaignWorkflowId, type CampaignResult, type DispatchReport } from '../../src/workflows/campaign-types';
import { freePort } from '../support/ports';
import { waitFor } from '../support/wait';
import { insertCampaign, resultWithin, readLedger, startCampaignHarness, waitForStatus, webhookRecipients, type CampaignHarness } from './harness';

describe('campaign dispatcher', () => {
  let harness: CampaignHarness;
  let metricsAddress: string;

  before(async () => {
    metricsAddress = `127.0.0.1:${await freePort()}`;
    harness = await startCampaignHarness({ METRICS_ADDRESS: metricsAddress });
    await harness.startWorker();
    await ensureSchedules(harness.temporal.client, harness.config);
  });

  after(async () => {
    await harness?.stop();
  });

  it('picks up a due campaign written with SQL alone and delivers every recipient once, by email and by webhook', async () => {
    const emailRecipients = Array.from({ length: 30 }, (_, index) => ({
      id: `e${String(index + 1).padStart(3, '0')}`,
      address: `person${index + 1}@example.test`,
      variables: { name: `<b>Person ${index + 1}</b>` },
    }));
    const emailCampaign = await insertCampaign(harness.db, {
      channel: 'email',
      subject: 'Hello {{name}}',
      body: '<p>Dear {{name}}, our sale starts today.</p>',
      recipients: emailRecipients,
    });
    const hookRecipients = webhookRecipients(harness.http, 40, 'w');
    const webhookCampaign = await insertCampaign(harness.db, { channel: 'webhook', body: 'Sale for {{name}}', recipients: hookRecipients });

    await harness.temporal.client.schedule.getHandle(SCHEDULE_IDS.campaignDispatcher).trigger();
    for (const id of [emailCampaign, webhookCampaign]) {
      const state = await waitForStatus(harness.db, id, ['completed']);
      assert.equal(state.pending, 0);
      assert.equal(state.failed, 0);
      assert.deepEqual(state.progress, { total: state.sent, sent: state.sent, failed: 0 });
    }

    const mailCounts = harness.smtp.countsByIdempotencyKey();
    assert.deepEqual(
      [...mailCounts.keys()].sort(),
      emailRecipients.map((recipient) => idempotencyKeyFor(emailCampaign, recipient.id)).sort(),
    );
    assert.ok([...mailCounts.values()].every((count) => count === 1), 'an email was sent twice');
    const first = harness.smtp.messages.find((mail) => mail.to.includes('person1@example.test'))!;
    assert.equal(first.messageId, messageIdFor(idempotencyKeyFor(emailCampaign, 'e001')));
    assert.equal(first.subject, 'Hello <b>Person 1</b>');
    assert.match(first.html, /Dear &lt;b&gt;Person 1&lt;\/b&gt;, our sale/);

    const hookCounts = harness.http.requestsByIdempotencyKey();
    assert.deepEqual(
      [...hookCounts.keys()].sort(),
      hookRecipients.map((recipient) => idempotencyKeyFor(webhookCampaign, recipient.id)).sort(),
    );
    assert.ok([...hookCounts.values()].every((count) => count === 1), 'a webhook was sent twice');
    assert.ok(harness.http.deliveries.every((delivery) => delivery.signatureValid), 'a webhook had a bad signature');
    assert.equal(harness.http.deliveries.find((delivery) => delivery.recipientId === 'w00001')?.body.body, 'Sale for Person 1');

    const described = await harness.temporal.client.workflow.getHandle(campaignWorkflowId(emailCampaign)).describe();
    assert.equal(described.typedSearchAttributes.get(CAMPAIGN_ID), emailCampaign);
    assert.equal(described.taskQueue, TASK_QUEUES.campaigns);
    assert.doesNotMatch(JSON.stringify(described.raw.workflowExecutionInfo?.searchAttributes ?? {}), /example\.test/);
    assert.deepEqual(described.memo ?? {}, {});
  });

  it('exposes sends by channel and outcome and batch durations on the worker metrics endpoint', async () => {
    const text = await waitFor(
      async () => {
        const response = await fetch(`http://${metricsAddress}/metrics`);
        const body = await response.text();
        return /notification_jobs_sends_total\{[^}]*channel="webhook"[^}]*outcome="sent"[^}]*\} [1-9]/.test(body) ? body : undefined;
      },
      { timeoutMs: 30_000, message: 'campaign metrics on the Prometheus endpoint' },
    );
    assert.match(text, /notification_jobs_sends_total\{[^}]*channel="email"[^}]*outcome="sent"[^}]*\} 30\b/);
    assert.match(text, /notification_jobs_campaign_batch_duration_ms_count(\{[^}]*\})? [1-9]/);
    assert.match(text, /notification_jobs_campaign_recipients_processed_total\{[^}]*outcome="sent"[^}]*\} [1-9]/);
  });

  it('sends nothing again when campaign-<id> is started a second time, during or after its run', async () => {
    const recipients = webhookRecipients(harness.http, 60, 'again');
    harness.http.setDelay(20);
    // Due in an hour: the minute schedule leaves it alone, and a hand start claims it all the same.
    const campaignId = await insertCampaign(harness.db, { channel: 'webhook', body: 'Hi {{name}}', recipients, ratePerSecond: 20, scheduledAt: new Date(Date.now() + 3_600_000) });
    try {
      assert.equal(await startCampaignWorkflow(harness.temporal.client, campaignId), 'started');
      await waitFor(async () => (await readLedger(harness.db, campaignId)).sent > 0, { message: 'the first sends' });
      assert.equal(await startCampaignWorkflow(harness.temporal.client, campaignId), 'already-running');
      await waitForStatus(harness.db, campaignId, ['completed']);
    } finally {
      harness.http.setDelay(0);
    }
    // After the run closed a new run may start, but it finds the campaign completed and sends nothing.
    const handle = harness.temporal.client.workflow.getHandle(campaignWorkflowId(campaignId));
    await resultWithin(handle);
    assert.equal(await startCampaignWorkflow(harness.temporal.client, campaignId), 'started');
    const second: CampaignResult = await resultWithin(harness.temporal.client.workflow.getHandle(campaignWorkflowId(campaignId)));
    assert.equal(second.outcome, 'not-claimed');
    assert.equal(second.status, 'completed');
    assert.equal(second.sent, 60);

    const counts = harness.http.requestsByIdempotencyKey();
    for (const recipient of recipients) assert.equal(counts.get(idempotencyKeyFor(campaignId, recipient.id)), 1, `${recipient.id} was not sent exactly once`);
  });

  it('sends nothing twice when two dispatcher runs and the schedule start the same due campaigns at once', async () => {
    const campaigns: Array<{ id: string; recipients: ReturnType<typeof webhookRecipients> }> = [];
    for (let index = 0; index < 5; index += 1) {
      const recipients = webhookRecipients(harness.http, 30, `twice${index}-`);
      campaigns.push({ id: await insertCampaign(harness.db, { channel: 'webhook', body: 'Hi {{name}}', recipients }), recipients });
    }
    const client = harness.temporal.client;
    const runs = await Promise.all([
      client.workflow.execute('campaignDispatcherWorkflow', { workflowId: 'manual-dispatch-a', taskQueue: TASK_QUEUES.campaigns }),
      client.workflow.execute('campaignDispatcherWorkflow', { workflowId: 'manual-dispatch-b', taskQueue: TASK_QUEUES.campaigns }),
      client.schedule.getHandle(SCHEDULE_IDS.campaignDispatcher).trigger(),
    ]);
    const reports = runs.slice(0, 2) as DispatchReport[];
    for (const { id } of campaigns) {
      assert.ok(reports.some((report) => report.started.includes(id) || report.alreadyRunning.includes(id)), `no dispatcher saw ${id}`);
      const state = await waitForStatus(harness.db, id, ['completed']);
      assert.equal(state.sent, 30);
    }
    const counts = harness.http.requestsByIdempotencyKey();
    for (const { id, recipients } of campaigns) {
      for (const recipient of recipients) assert.equal(counts.get(idempotencyKeyFor(id, recipient.id)), 1, `${id}/${recipient.id} was not sent exactly once`);
    }
  });
});
