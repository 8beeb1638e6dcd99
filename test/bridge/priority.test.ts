import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createEventBridge, type EventBridge } from '../../src/bridge/bridge';
import { startCampaignWorkflow } from '../../src/campaigns/start-workflow';
import { createLogger } from '../../src/logger';
import { TASK_QUEUES } from '../../src/temporal/task-queues';
import { testConfig } from '../support/config';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { createTestVhost, type TestVhost } from '../support/rabbitmq';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { startTestTemporal, type TestTemporal } from '../support/temporal';
import { waitFor } from '../support/wait';
import { startTestWorker, type TestWorker } from '../support/worker';
import { paymentCompleted } from './fixtures';

const RECIPIENTS = 6_000;
/** Generous for a loaded two-core machine; an event queued behind the campaign would wait for all of it. */
const PROMPT_MS = 15_000;

describe('transactional notifications during a large campaign', () => {
  let temporal: TestTemporal;
  let database: TestDatabase;
  let vhost: TestVhost;
  let smtp: SmtpSink;
  let worker: TestWorker;
  let bridge: EventBridge;

  before(async () => {
    [temporal, database, vhost, smtp] = await Promise.all([startTestTemporal(), createTestDatabase(), createTestVhost(), startSmtpSink()]);
    const config = testConfig({ TEMPORAL_ADDRESS: temporal.address, DATABASE_URL: database.url, AMQP_URL: vhost.url, SMTP_URL: smtp.url, LOG_LEVEL: 'error' });
    // One worker process serving both queues, as `npm start` runs it: they share the connection, database pool and mail pool.
    worker = await startTestWorker(config, database, [TASK_QUEUES.campaigns, TASK_QUEUES.transactional]);
    bridge = createEventBridge({ config, logger: createLogger(config, 'bridge') });
    await bridge.start();
  });

  after(async () => {
    await bridge?.stop();
    await worker?.shutdown();
    await Promise.allSettled([temporal?.stop(), smtp?.stop(), vhost?.delete()]);
    await database?.drop();
  });

  const campaignCounts = async (campaignId: string) => {
    const { rows } = await sql<{ status: string; count: number }>`
      select status, count(*)::int as count from campaign_recipients where campaign_id = ${campaignId} group by status`.execute(database.db);
    return Object.fromEntries(rows.map((row) => [row.status, row.count])) as Record<string, number | undefined>;
  };

  it('delivers an event promptly while a large campaign is sending, ahead of the campaign', async (t) => {
    const { rows } = await sql<{ id: string }>`
      insert into notification_campaigns (name, channel, subject, body, status, scheduled_at)
      values ('spring sale', 'email', 'Spring sale', '<p>Hello {{name}}</p>', 'scheduled', now() - interval '1 minute')
      returning id`.execute(database.db);
    const campaignId = rows[0]!.id;
    await sql`
      insert into campaign_recipients (campaign_id, recipient_id, address, variables)
      select ${campaignId}, 'r' || n, 'reader' || n || '@example.com', jsonb_build_object('name', 'Reader ' || n)
      from generate_series(1, ${RECIPIENTS}) n`.execute(database.db);
    await startCampaignWorkflow(temporal.client, campaignId);
    await waitFor(async () => ((await campaignCounts(campaignId)).sent ?? 0) >= 200, { timeoutMs: 120_000, message: 'the campaign to be sending' });

    const payment = paymentCompleted();
    const key = `payment.completed:${payment.eventId}`;
    const publishedAt = Date.now();
    await vhost.publish('payment.completed', payment);
    await waitFor(() => smtp.messages.some((message) => message.idempotencyKey === key), { timeoutMs: 120_000, intervalMs: 20, message: 'the event email' });
    const latencyMs = Date.now() - publishedAt;
    const campaignAtDelivery = await campaignCounts(campaignId);

    t.diagnostic(`event delivered in ${latencyMs} ms; campaign at that moment: ${JSON.stringify(campaignAtDelivery)}`);
    assert.ok((campaignAtDelivery.pending ?? 0) > 0, `the campaign was still sending when the event arrived (${JSON.stringify(campaignAtDelivery)})`);
    assert.ok(latencyMs < PROMPT_MS, `event delivered in ${latencyMs} ms`);
    assert.equal(smtp.messages.filter((message) => message.idempotencyKey === key).length, 1);
  });
});
