import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createEventBridge, type EventBridge } from '../../src/bridge/bridge';
import { TOPOLOGY } from '../../src/bridge/topology';
import { createLogger } from '../../src/logger';
import { PROJECT_ROOT } from '../../src/temporal/cli-binary';
import { waitFor } from '../support/wait';
import { paymentCompleted, startBridgeStack, ticketPurchased, waitForDeliveries, type BridgeStack } from './fixtures';

function dlq(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src', 'cli', 'dlq.ts'), ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('dlq command', () => {
  let stack: BridgeStack;
  let fixedBridge: EventBridge | undefined;
  let env: Record<string, string>;

  before(async () => {
    // A bridge with a size limit too small for real events: the "bug" the replay comes after.
    stack = await startBridgeStack({ env: { BRIDGE_MAX_MESSAGE_BYTES: '100' } });
    env = { AMQP_URL: stack.vhost.url };
  });

  after(async () => {
    await fixedBridge?.stop();
    await stack?.stop();
  });

  it('lists dead letters with their reasons, and after a fix replays them up to --limit, each delivered once', async () => {
    const events = [paymentCompleted(), ticketPurchased(), paymentCompleted(), ticketPurchased(), paymentCompleted()];
    for (const body of events) await stack.vhost.publish('orderId' in body ? 'payment.completed' : 'ticket.purchased', body);
    await waitFor(async () => (await stack.vhost.depth(TOPOLOGY.deadLetterQueue)) === events.length, { message: 'five dead letters' });

    const listing = await dlq(['list'], env);
    assert.equal(listing.code, 0, listing.stderr);
    assert.match(listing.stdout, /notification-service\.events\.dlq in vhost "nj_test_\w+": 5 messages/);
    for (const body of events) assert.match(listing.stdout, new RegExp(`${body.eventId}.*exceeds the limit of 100 bytes`));
    assert.doesNotMatch(listing.stdout, /@example\.com/, 'no personal data on the terminal');
    // Listing takes nothing away.
    assert.equal(await stack.vhost.depth(TOPOLOGY.deadLetterQueue), events.length);

    const json = JSON.parse((await dlq(['list', '--limit', '2', '--json'], env)).stdout) as { total: number; messages: Array<{ routingKey: string }> };
    assert.equal(json.total, 5);
    assert.deepEqual(json.messages.map((message) => message.routingKey), ['payment.completed', 'ticket.purchased']);

    // The fix: a bridge with the default limit.
    await stack.bridge.stop();
    fixedBridge = createEventBridge({ config: { ...stack.config, bridge: { ...stack.config.bridge, maxMessageBytes: 256 * 1024 } }, logger: createLogger(stack.config, 'bridge') });
    await fixedBridge.start();

    const partial = await dlq(['replay', '--limit', '3'], env);
    assert.equal(partial.code, 0, partial.stderr);
    assert.match(partial.stdout, /3 messages sent back to notification-service\.events; 2 left in notification-service\.events\.dlq/);
    await waitForDeliveries(stack.smtp, 3);
    assert.equal(await stack.vhost.depth(TOPOLOGY.deadLetterQueue), 2);

    const rest = await dlq(['replay', '--limit', '100'], env);
    assert.match(rest.stdout, /2 messages sent back .*; 0 left/);
    const counts = await waitForDeliveries(stack.smtp, events.length);
    assert.deepEqual(
      [...counts.entries()].sort(),
      events.map((body) => [`${'orderId' in body ? 'payment.completed' : 'ticket.purchased'}:${body.eventId}`, 1]).sort(),
    );

    // Replaying an event that was already delivered sends nothing more.
    await stack.vhost.publish('payment.completed', events[0]!);
    await waitFor(() => fixedBridge!.stats.duplicates >= 1, { message: 'the replayed duplicate handled' });
    assert.equal(stack.smtp.messages.length, events.length);
  });

  it('explains argument errors', async () => {
    const noLimit = await dlq(['replay'], env);
    assert.notEqual(noLimit.code, 0);
    assert.match(noLimit.stderr, /required option '--limit <count>' not specified/);

    const badLimit = await dlq(['replay', '--limit', 'lots'], env);
    assert.notEqual(badLimit.code, 0);
    assert.match(badLimit.stderr, /'--limit <count>' argument 'lots' is invalid\. must be a positive whole number/);

    const zero = await dlq(['list', '--limit', '0'], env);
    assert.notEqual(zero.code, 0);
    assert.match(zero.stderr, /must be a positive whole number, got "0"/);

    const unknown = await dlq(['purge'], env);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /unknown command 'purge'/);

    const badUrl = await dlq(['list'], { AMQP_URL: 'http://127.0.0.1' });
    assert.equal(badUrl.code, 1);
    assert.equal(badUrl.stderr.trim(), 'Invalid configuration: AMQP_URL must be a URL starting with amqp:// or amqps://');

    const missingVhost = await dlq(['list'], { AMQP_URL: `${stack.vhost.url}-missing` });
    assert.equal(missingVhost.code, 1);
    assert.match(missingVhost.stderr, /vhost "nj_test_\w+-missing": the vhost does not exist/);
  });
});
