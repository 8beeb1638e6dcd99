import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import amqp from 'amqplib';
import { assertTopology, explainMismatch, TOPOLOGY, TopologyMismatchError } from '../../src/bridge/topology';
import { PROJECT_ROOT } from '../../src/temporal/cli-binary';
import { createTestVhost, rabbitmqctl, type TestVhost } from '../support/rabbitmq';
import { waitFor } from '../support/wait';

const classic = { messageTtlMs: 60_000, queueType: 'classic' as const };

async function declare(vhost: TestVhost, config: { messageTtlMs: number; queueType: 'classic' | 'quorum' }) {
  const connection = await amqp.connect(vhost.url);
  try {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    await assertTopology(channel, config);
  } finally {
    await connection.close().catch(() => undefined);
  }
}

async function queueArguments(vhost: TestVhost): Promise<Map<string, string>> {
  const listing = await rabbitmqctl('list_queues', '-p', vhost.name, 'name', 'durable', 'arguments', '--no-table-headers');
  return new Map(listing.split('\n').filter(Boolean).map((line) => [line.split('\t')[0]!, line.split('\t').slice(1).join('\t')]));
}

/** Runs the bridge entry point to its exit; it needs no Temporal to get as far as the topology. */
function runBridge(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src', 'workers', 'bridge.ts')], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn', TEMPORAL_ADDRESS: '127.0.0.1:1', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('bridge topology', () => {
  const vhosts: TestVhost[] = [];
  const freshVhost = async () => {
    const vhost = await createTestVhost();
    vhosts.push(vhost);
    return vhost;
  };
  let shared: TestVhost;

  before(async () => {
    shared = await freshVhost();
  });

  after(async () => {
    await Promise.allSettled(vhosts.map((vhost) => vhost.delete()));
  });

  it('declares the exchanges, queues, dead-lettering and bindings of the contract, and declaring again changes nothing', async () => {
    await declare(shared, classic);
    await declare(shared, classic);

    const queues = await queueArguments(shared);
    assert.match(queues.get(TOPOLOGY.workQueue)!, /^true\t.*x-dead-letter-exchange.*dlx\.notifications/);
    assert.match(queues.get(TOPOLOGY.workQueue)!, /x-message-ttl.*60000/);
    assert.match(queues.get(TOPOLOGY.deadLetterQueue)!, /^true\t/);
    assert.match(queues.get(TOPOLOGY.retryQueue)!, /x-dead-letter-routing-key.*notification-service\.events/);

    const exchanges = await rabbitmqctl('list_exchanges', '-p', shared.name, 'name', 'type', 'durable', '--no-table-headers');
    assert.match(exchanges, /^events\ttopic\ttrue$/m);
    assert.match(exchanges, /^dlx\.notifications\ttopic\ttrue$/m);

    const bindings = await rabbitmqctl('list_bindings', '-p', shared.name, 'source_name', 'destination_name', 'routing_key', '--no-table-headers');
    for (const routingKey of ['payment.completed', 'ticket.purchased', 'event.reminder']) {
      assert.match(bindings, new RegExp(`^events\\t${TOPOLOGY.workQueue}\\t${routingKey.replace('.', '\\.')}$`, 'm'));
    }
    assert.match(bindings, new RegExp(`^dlx\\.notifications\\t${TOPOLOGY.deadLetterQueue.replaceAll('.', '\\.')}\\t#$`, 'm'));
  });

  it('routes published events into the work queue, and expired retries back into it with their routing key', async () => {
    await declare(shared, classic);
    await shared.publish('payment.completed', { eventId: 'routed' });
    await shared.publish('user.deleted', { eventId: 'not-ours' });
    await shared.sendToQueue(TOPOLOGY.retryQueue, Buffer.from('{}'), { expiration: '200', headers: { 'x-routing-key': 'ticket.purchased' } });
    await waitFor(async () => (await shared.depth(TOPOLOGY.workQueue)) === 2, { message: 'two messages in the work queue' });
    const messages = await shared.drain(TOPOLOGY.workQueue);
    assert.deepEqual(messages.map((message) => message.headers['x-routing-key'] ?? message.routingKey).sort(), ['payment.completed', 'ticket.purchased']);
  });

  it('works with quorum queues too, including the delayed-retry path', async () => {
    const vhost = await freshVhost();
    await declare(vhost, { messageTtlMs: 0, queueType: 'quorum' });
    const queues = await queueArguments(vhost);
    assert.match(queues.get(TOPOLOGY.workQueue)!, /x-queue-type.*quorum/);
    assert.doesNotMatch(queues.get(TOPOLOGY.workQueue)!, /x-message-ttl/);
    await vhost.sendToQueue(TOPOLOGY.retryQueue, Buffer.from('{}'), { expiration: '200', headers: { 'x-routing-key': 'event.reminder' } });
    await waitFor(async () => (await vhost.depth(TOPOLOGY.workQueue)) === 1, { message: 'the retried message back in the work queue' });
  });

  it('stops start-up with what differs and how to migrate when the work queue exists with other arguments', async () => {
    const vhost = await freshVhost();
    await declare(vhost, { messageTtlMs: 1_000, queueType: 'classic' });

    const { code, stderr } = await runBridge({ AMQP_URL: vhost.url, BRIDGE_MESSAGE_TTL_MS: '5000' });
    assert.equal(code, 1);
    assert.match(stderr, /queue "notification-service\.events" in vhost "nj_test_\w+" already exists with x-message-ttl = 1000, but the bridge declares x-message-ttl = 5000 \(from BRIDGE_MESSAGE_TTL_MS\)/);
    assert.match(stderr, /set BRIDGE_MESSAGE_TTL_MS so that it matches the existing queue/);
    assert.match(stderr, /rabbitmqctl delete_queue notification-service\.events -p nj_test_\w+/);
    assert.doesNotMatch(stderr, /\n\s+at /, 'a message for operators, not a stack trace');
    // Nothing was changed on the way out.
    assert.match((await queueArguments(vhost)).get(TOPOLOGY.workQueue)!, /x-message-ttl.*1000/);
  });

  it('explains a queue that exists without dead-lettering, and an exchange of another type', () => {
    const queue = explainMismatch(
      new Error(`Operation failed: QueueDeclare; 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - inequivalent arg 'x-dead-letter-exchange' for queue 'notification-service.events' in vhost '/': received the value 'dlx.notifications' of type 'longstr' but current is none"`),
    );
    assert.ok(queue instanceof TopologyMismatchError);
    assert.match(queue.message, /already exists with x-dead-letter-exchange = none, but the bridge declares x-dead-letter-exchange = dlx\.notifications\. Queue arguments cannot change in place/);
    assert.match(queue.message, /rabbitmqctl delete_queue notification-service\.events[^-]/);

    const exchange = explainMismatch(
      new Error(`Operation failed: ExchangeDeclare; 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - inequivalent arg 'type' for exchange 'events' in vhost 'prod': received 'topic' but current is 'fanout'"`),
    );
    assert.match(exchange.message, /exchange "events" in vhost "prod" already exists with type = fanout, but the bridge declares type = topic/);
    assert.match(exchange.message, /rabbitmqctl delete_exchange events -p prod/);
  });
});
