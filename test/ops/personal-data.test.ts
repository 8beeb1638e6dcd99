// With encryption configured, the real flows (a campaign, events through the bridge) leave no address or
// name in plain text in Temporal (raw histories, search attributes, memos), nor in the info logs of the
// worker and bridge processes.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startCampaignWorkflow } from '../../src/campaigns/start-workflow';
import { connectClient } from '../../src/temporal/connection';
import { startBridgeStack, ticketPurchased, paymentCompleted, waitForDeliveries, type BridgeStack } from '../bridge/fixtures';
import { insertCampaign, startCampaignHarness, waitForStatus, type CampaignHarness } from '../campaigns/harness';
import { spawnService, type ServiceProcess } from '../support/worker-process';
import { findPersonalData } from './support/personal-data';

const encryption = () => ({ PAYLOAD_ENCRYPTION_KEY_ID: 'pii-test', PAYLOAD_ENCRYPTION_KEY: randomBytes(32).toString('base64') });

function assertNoneInLogs(service: ServiceProcess, needles: string[]): void {
  assert.ok(service.output.length > 0);
  for (const line of service.output) for (const needle of needles) assert.ok(!line.includes(needle), `"${needle}" in a log line: ${line}`);
}

describe('no personal data in Temporal: a campaign', () => {
  let harness: CampaignHarness;
  let worker: ServiceProcess;

  before(async () => {
    harness = await startCampaignHarness(encryption());
    // The real worker process, logging at info.
    worker = await spawnService('worker', { ...harness.workerEnv, LOG_LEVEL: 'info' });
  });
  after(async () => {
    await worker?.kill('SIGKILL');
    await harness?.stop();
  });

  it('sends, refuses and dead-letters recipients without their addresses or names reaching Temporal', async () => {
    const recipients = Array.from({ length: 6 }, (_, index) => ({
      id: `r${index}`,
      address: `member.${index}.${randomBytes(3).toString('hex')}@example.org`,
      variables: { name: `Grace Hopper ${index}` },
    }));
    // Two recipients are refused for good, so the provider's error text (which quotes them) is produced too.
    const refused = new Set(recipients.slice(0, 2).map((recipient) => recipient.address));
    harness.smtp.refuse((address) => (refused.has(address) ? 550 : undefined));
    const campaignId = await insertCampaign(harness.db, { channel: 'email', subject: 'Hi {{name}}', body: '<p>Dear {{name}}</p>', recipients });
    const client = await connectClient(harness.config);
    try {
      await startCampaignWorkflow(client, campaignId);
      const state = await waitForStatus(harness.db, campaignId, ['completed', 'failed']);
      assert.equal(state.sent + state.failed, recipients.length);
    } finally {
      await client.connection.close();
    }
    const needles = recipients.flatMap((recipient) => [recipient.address, String(recipient.variables.name)]);
    assert.deepEqual(await findPersonalData(harness.temporal.client, harness.temporal.namespace, needles), []);
    assertNoneInLogs(worker, needles);
  });
});

describe('no personal data in Temporal: events through the bridge', () => {
  let stack: BridgeStack;
  let bridge: ServiceProcess;

  before(async () => {
    const env = encryption();
    stack = await startBridgeStack({ env, withoutBridge: true });
    // The real bridge process, logging at info.
    bridge = await spawnService(
      'bridge',
      { TEMPORAL_ADDRESS: stack.temporal.address, AMQP_URL: stack.vhost.url, DATABASE_URL: stack.database.url, LOG_LEVEL: 'info', ...env },
      /"msg":"bridge started"/,
    );
  });
  after(async () => {
    await bridge?.kill('SIGKILL');
    await stack?.stop();
  });

  it('delivers events whose addresses never reach Temporal in plain text', async () => {
    const payment = paymentCompleted(randomUUID(), { email: `payer.${randomBytes(3).toString('hex')}@example.org` });
    const ticket = ticketPurchased(randomUUID(), { email: `fan.${randomBytes(3).toString('hex')}@example.org` });
    await stack.vhost.publish('payment.completed', payment);
    await stack.vhost.publish('ticket.purchased', ticket);
    await waitForDeliveries(stack.smtp, 2);
    assert.deepEqual(await findPersonalData(stack.temporal.client, stack.temporal.namespace, [payment.email, ticket.email]), []);
    assertNoneInLogs(bridge, [payment.email, ticket.email]);
  });
});
