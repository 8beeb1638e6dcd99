import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TOPOLOGY } from '../../src/bridge/topology';
import { waitFor } from '../support/wait';
import { spawnService, type ServiceProcess } from '../support/worker-process';
import { paymentCompleted, startBridgeStack, ticketPurchased, waitForDeliveries, type BridgeStack } from './fixtures';

const EVENTS = 900;
const READY = /"msg":"bridge started"/;

describe('bridge process stopped mid-stream', () => {
  let stack: BridgeStack;
  let bridge: ServiceProcess | undefined;

  before(async () => {
    stack = await startBridgeStack({ withoutBridge: true });
  });

  after(async () => {
    await bridge?.kill('SIGKILL');
    await stack?.stop();
  });

  const spawnBridge = () =>
    spawnService(
      'bridge',
      { TEMPORAL_ADDRESS: stack.config.temporal.address, AMQP_URL: stack.vhost.url, BRIDGE_PREFETCH: '10', BRIDGE_SHUTDOWN_TIMEOUT_MS: '15000' },
      READY,
    );

  it('delivers every event once across a SIGTERM and a SIGKILL of the bridge', async () => {
    bridge = await spawnBridge();
    const events = Array.from({ length: EVENTS }, (_, index) =>
      index % 2 ? { routingKey: 'payment.completed', body: paymentCompleted() } : { routingKey: 'ticket.purchased', body: ticketPurchased() },
    );
    await stack.vhost.publishMany(events);

    const consumed = async (count: number) => EVENTS - (await stack.vhost.depth(TOPOLOGY.workQueue)) >= count;
    await waitFor(() => consumed(100), { timeoutMs: 120_000, intervalMs: 20, message: '100 events taken by the bridge' });
    const sigterm = Date.now();
    const code = await bridge.kill('SIGTERM');
    assert.equal(code, 0, bridge.output.slice(-10).join('\n'));
    assert.ok(Date.now() - sigterm < 15_000, 'stopped within its shutdown deadline');
    assert.ok(bridge.output.some((line) => /"msg":"bridge stopped"/.test(line)));
    assert.ok((await stack.vhost.depth(TOPOLOGY.workQueue)) > 0, 'stopped while events were still waiting');

    bridge = await spawnBridge();
    await waitFor(() => consumed(400), { timeoutMs: 120_000, intervalMs: 20, message: '400 events taken by the bridge' });
    assert.ok(!(await consumed(EVENTS)), 'killed while events were still waiting');
    await bridge.kill('SIGKILL');
    bridge = await spawnBridge();

    const counts = await waitForDeliveries(stack.smtp, EVENTS, 300_000);
    assert.equal(counts.size, EVENTS);
    assert.deepEqual([...new Set(counts.values())], [1], 'every event delivered exactly once');
    await waitFor(async () => (await stack.vhost.depth(TOPOLOGY.workQueue)) === 0, { message: 'an empty work queue' });
    assert.equal(await stack.vhost.depth(TOPOLOGY.deadLetterQueue), 0);
  });
});
