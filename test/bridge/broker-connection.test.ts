import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TOPOLOGY } from '../../src/bridge/topology';
import { waitFor } from '../support/wait';
import { eventReminder, paymentCompleted, startBridgeStack, ticketPurchased, waitForDeliveries, type BridgeStack } from './fixtures';

const EVENTS = 1_000;

describe('bridge when the broker drops its connection', () => {
  let stack: BridgeStack;

  before(async () => {
    stack = await startBridgeStack();
  });

  after(async () => {
    await stack?.stop();
  });

  it('reconnects after `rabbitmqctl close_all_connections` in the middle of 1,000 events and delivers each once', async () => {
    const builders = [
      ['payment.completed', paymentCompleted],
      ['ticket.purchased', ticketPurchased],
      ['event.reminder', eventReminder],
    ] as const;
    const events = Array.from({ length: EVENTS }, (_, index) => {
      const [routingKey, build] = builders[index % builders.length]!;
      return { routingKey, body: build() };
    });
    await stack.vhost.publishMany(events);

    await waitFor(() => stack.bridge.stats.started >= 150, { timeoutMs: 120_000, message: '150 workflows started' });
    await stack.vhost.closeAllConnections('mid-stream test');
    await waitFor(() => stack.bridge.stats.reconnects >= 1, { message: 'the bridge to reconnect' });
    // Once more while the rest of the stream is flowing on the new connection.
    await waitFor(() => stack.bridge.stats.started >= 500, { timeoutMs: 120_000, message: '500 workflows started' });
    await stack.vhost.closeAllConnections('mid-stream test, again');

    const counts = await waitForDeliveries(stack.smtp, EVENTS, 300_000);
    assert.equal(counts.size, EVENTS);
    assert.deepEqual([...new Set(counts.values())], [1], 'every event delivered exactly once');
    assert.ok(stack.bridge.stats.connectionLosses >= 2, `lost the connection ${stack.bridge.stats.connectionLosses} times`);
    assert.equal(stack.bridge.stats.reconnects, stack.bridge.stats.connectionLosses);
    // A start whose ack died with the connection comes back as a duplicate: a no-op.
    assert.ok(stack.bridge.stats.started <= EVENTS);
    assert.ok(stack.bridge.stats.started + stack.bridge.stats.duplicates >= EVENTS);
    assert.equal(stack.bridge.stats.deadLettered, 0);
    await waitFor(async () => (await stack.vhost.depth(TOPOLOGY.workQueue)) === 0, { message: 'an empty work queue' });
    assert.equal(await stack.vhost.depth(TOPOLOGY.deadLetterQueue), 0);
    assert.ok((await stack.vhost.connectionCount()) >= 1, 'the bridge is connected again');

    // Still consuming on the new connection.
    const late = paymentCompleted();
    await stack.vhost.publish('payment.completed', late);
    await waitFor(() => stack.smtp.countsByIdempotencyKey().get(`payment.completed:${late.eventId}`) === 1, { message: 'an event after the reconnects' });
  });
});
