import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TOPOLOGY } from '../../src/bridge/topology';
import { waitFor } from '../support/wait';
import { paymentCompleted, startBridgeStack, ticketPurchased, waitForDeliveries, type BridgeStack } from './fixtures';

const PREFETCH = 10;
const MAX_ATTEMPTS = 3;

describe('bridge while Temporal is down', () => {
  let stack: BridgeStack;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'nj-outage-'));

  before(async () => {
    stack = await startBridgeStack({
      temporalDatabaseFile: path.join(dataDir, 'temporal.sqlite'),
      // Few attempts and a short delay: a bridge that spent an attempt per retry cycle would dead-letter everything here.
      env: { BRIDGE_PREFETCH: String(PREFETCH), BRIDGE_MAX_ATTEMPTS: String(MAX_ATTEMPTS), BRIDGE_RETRY_DELAY_MS: '1000' },
    });
  });

  after(async () => {
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('neither loses nor spins on events published during the outage, and delivers each once when Temporal is back', async () => {
    const warmUp = paymentCompleted();
    await stack.vhost.publish('payment.completed', warmUp);
    await waitForDeliveries(stack.smtp, 1);

    await stack.temporal.server.stop();
    const events = Array.from({ length: 40 }, (_, index) => (index % 2 ? paymentCompleted() : ticketPurchased()));
    await stack.vhost.publishMany(events.map((body) => ({ routingKey: 'orderId' in body ? 'payment.completed' : 'ticket.purchased', body })));

    // The bridge notices, stops taking messages, and the few it held come back from the retry queue.
    await waitFor(() => stack.bridge.stats.pauses >= 1, { timeoutMs: 90_000, message: 'the bridge to pause' });
    await waitFor(
      async () => (await stack.vhost.depth(TOPOLOGY.workQueue)) === events.length && (await stack.vhost.depth(TOPOLOGY.retryQueue)) === 0,
      { timeoutMs: 90_000, message: 'every event parked in the work queue' },
    );
    const retriedDuringOutage = stack.bridge.stats.retried;
    assert.ok(retriedDuringOutage <= PREFETCH, `${retriedDuringOutage} retries: only the messages in flight at the outage may spend an attempt`);
    assert.equal(stack.bridge.stats.deadLettered, 0);

    await stack.temporal.restart();
    await waitForDeliveries(stack.smtp, events.length + 1, 180_000);

    const counts = stack.smtp.countsByIdempotencyKey();
    assert.equal(counts.size, events.length + 1);
    assert.deepEqual([...new Set(counts.values())], [1], 'every event delivered exactly once');
    assert.equal(stack.bridge.stats.deadLettered, 0);
    assert.equal(await stack.vhost.depth(TOPOLOGY.deadLetterQueue), 0);
    assert.ok(stack.bridge.stats.retried <= 2 * PREFETCH, `${stack.bridge.stats.retried} retries in all`);
    const sent = await stack.database.db.selectFrom('notifications').select((eb) => eb.fn.countAll<number>().as('count')).where('status', '=', 'sent').executeTakeFirstOrThrow();
    assert.equal(Number(sent.count), events.length + 1);
  });
});
