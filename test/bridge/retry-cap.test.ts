import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createEventBridge, type EventBridge } from '../../src/bridge/bridge';
import { TOPOLOGY } from '../../src/bridge/topology';
import { createLogger } from '../../src/logger';
import { testConfig } from '../support/config';
import { createTestVhost, type TestVhost } from '../support/rabbitmq';
import { startTestTemporal, type TestTemporal } from '../support/temporal';
import { waitFor } from '../support/wait';
import { paymentCompleted } from './fixtures';

const RETRY_DELAY_MS = 400;

describe('bridge when every start fails', () => {
  let temporal: TestTemporal;
  let vhost: TestVhost;
  let bridge: EventBridge;

  before(async () => {
    [temporal, vhost] = await Promise.all([startTestTemporal(), createTestVhost()]);
    // A namespace that does not exist: Temporal answers, and refuses every start.
    const config = testConfig({
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: 'no-such-namespace',
      AMQP_URL: vhost.url,
      BRIDGE_MAX_ATTEMPTS: '3',
      BRIDGE_RETRY_DELAY_MS: String(RETRY_DELAY_MS),
      LOG_LEVEL: 'error',
    });
    bridge = createEventBridge({ config, logger: createLogger(config, 'bridge') });
    await bridge.start();
  });

  after(async () => {
    await bridge?.stop();
    await Promise.allSettled([temporal?.stop(), vhost?.delete()]);
  });

  it('retries after the delay, counting attempts itself, then dead-letters with the reason after BRIDGE_MAX_ATTEMPTS', async () => {
    const payment = paymentCompleted();
    const publishedAt = Date.now();
    await vhost.publish('payment.completed', payment, { messageId: 'doomed' });

    await waitFor(async () => (await vhost.depth(TOPOLOGY.deadLetterQueue)) === 1, { message: 'the dead letter' });
    const elapsedMs = Date.now() - publishedAt;
    const [dead] = await vhost.drain(TOPOLOGY.deadLetterQueue);
    assert.equal(dead!.messageId, 'doomed');
    assert.equal(dead!.routingKey, 'payment.completed');
    assert.match(String(dead!.headers['x-error']), /^Could not start the workflow after 3 attempts: .*no-such-namespace/);
    assert.equal(dead!.headers['x-bridge-attempts'], 3);
    assert.equal(dead!.headers['x-routing-key'], 'payment.completed');
    assert.deepEqual(JSON.parse(dead!.content.toString()), payment);

    assert.equal(bridge.stats.retried, 2);
    assert.equal(bridge.stats.deadLettered, 1);
    // Two waits in the retry queue: not a hot loop.
    assert.ok(elapsedMs >= 2 * RETRY_DELAY_MS, `dead-lettered after ${elapsedMs} ms`);
    assert.equal(await vhost.depth(TOPOLOGY.workQueue), 0);
    assert.equal(await vhost.depth(TOPOLOGY.retryQueue), 0);
  });
});
