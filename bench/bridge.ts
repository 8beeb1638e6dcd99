// `npm run bench:bridge [-- --events N]`: events per second through the bridge (publish -> workflow started),
// against a raw amqplib consume-and-ack loop and a raw loop of workflow starts at the same concurrency,
// plus a prefetch sweep. Runs its own Temporal dev server (in memory) and RabbitMQ vhost; no worker is needed.
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { Client } from '@temporalio/client';
import { createEventBridge } from '../src/bridge/bridge';
import { connectAmqp } from '../src/bridge/connection';
import { assertTopology, TOPOLOGY } from '../src/bridge/topology';
import { startEventNotification } from '../src/bridge/workflow-start';
import type { Config } from '../src/config';
import { createLogger } from '../src/logger';
import type { NotificationEvent } from '../src/workflows/event-types';
import { testConfig } from '../test/support/config';
import { createTestVhost, rabbitmqctl, type TestVhost } from '../test/support/rabbitmq';
import { startTestTemporal } from '../test/support/temporal';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '20000' },
    prefetch: { type: 'string', default: '20' },
    'sweep-events': { type: 'string' },
    sweep: { type: 'string', default: '1,10,50,200' },
  },
});

function positive(name: string, value: string | undefined): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) {
    console.error(`--${name} must be a positive whole number, got "${value}"`);
    process.exit(2);
  }
  return parsed;
}

const events = positive('events', values.events);
const prefetch = positive('prefetch', values.prefetch);
const sweepEvents = positive('sweep-events', values['sweep-events'] ?? String(Math.min(events, 3_000)));
const sweep = (values.sweep ?? '').split(',').map((value) => positive('sweep', value.trim()));

const run = randomUUID().slice(0, 8);
let batch = 0;

/** Fresh events (fresh ids, so every start is a real one), as publishers would send them. */
function makeEvents(count: number): NotificationEvent[] {
  const prefix = `bench-${run}-${++batch}`;
  return Array.from({ length: count }, (_, index) => {
    const eventId = `${prefix}-${index}`;
    return {
      routingKey: 'payment.completed',
      eventId,
      body: { eventId, userId: `user-${index}`, email: `user-${index}@example.com`, orderId: `order-${index}`, amount: 10 + (index % 90), currency: 'EUR' },
    };
  });
}

async function publishAll(vhost: TestVhost, list: NotificationEvent[]) {
  await vhost.publishMany(list.map((event) => ({ routingKey: event.routingKey, body: event.body })));
}

function rate(count: number, startedAt: number): number {
  return count / ((performance.now() - startedAt) / 1000);
}

/** Publish and, at the same time, consume and ack from the work queue with a plain amqplib consumer. */
async function rawConsumeAndAck(config: Config, vhost: TestVhost, count: number, concurrency: number): Promise<number> {
  const connection = await connectAmqp(config, { connectionName: 'bench raw consumer' });
  const channel = await connection.createChannel();
  await channel.prefetch(concurrency);
  let acked = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const startedAt = performance.now();
  await channel.consume(TOPOLOGY.workQueue, (message) => {
    if (!message) return;
    channel.ack(message);
    if (++acked === count) done();
  });
  await publishAll(vhost, makeEvents(count));
  await finished;
  const result = rate(count, startedAt);
  await connection.close();
  return result;
}

/** `count` workflow starts, `concurrency` at a time, with exactly the options the bridge uses. */
async function rawStarts(client: Client, count: number, concurrency: number): Promise<number> {
  const list = makeEvents(count);
  let next = 0;
  const startedAt = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < list.length) await startEventNotification(client, list[next++]!);
    }),
  );
  return rate(count, startedAt);
}

/** Publish `count` events and wait until the bridge has started a workflow for each. */
async function throughBridge(config: Config, client: Client, vhost: TestVhost, count: number, concurrency: number): Promise<number> {
  let started = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const bridge = createEventBridge({
    config: { ...config, bridge: { ...config.bridge, prefetch: concurrency } },
    logger: createLogger(config, 'bench-bridge'),
    client,
    onOutcome: (outcome) => {
      if (outcome === 'started' && ++started === count) done();
    },
  });
  await bridge.start();
  const startedAt = performance.now();
  await publishAll(vhost, makeEvents(count));
  await finished;
  const result = rate(count, startedAt);
  await bridge.stop();
  return result;
}

const format = (value: number) => Math.round(value).toLocaleString('en-US').padStart(9);

/**
 * Raw starts and the bridge, alternately, in `rounds` slices of `count` events: the dev server slows down as
 * started-but-unworked workflows pile up, and interleaving gives that drift (and the noise of a shared machine)
 * to both sides alike.
 */
async function compare(config: Config, client: Client, vhost: TestVhost, count: number, concurrency: number, rounds: number) {
  const seconds = { raw: 0, bridge: 0 };
  const slice = Math.ceil(count / rounds);
  for (let round = 0; round < rounds; round++) {
    const timed = async (side: 'raw' | 'bridge') => {
      const rate = side === 'raw' ? await rawStarts(client, slice, concurrency) : await throughBridge(config, client, vhost, slice, concurrency);
      seconds[side] += slice / rate;
    };
    for (const side of round % 2 === 0 ? (['raw', 'bridge'] as const) : (['bridge', 'raw'] as const)) await timed(side);
  }
  return { raw: (slice * rounds) / seconds.raw, bridge: (slice * rounds) / seconds.bridge };
}

async function main() {
  const [temporal, vhost] = await Promise.all([startTestTemporal(), createTestVhost()]);
  const cleanUp = async () => {
    await temporal.stop().catch(() => undefined);
    await vhost.delete().catch(() => undefined);
  };
  process.once('SIGINT', () => void cleanUp().then(() => process.exit(130)));
  const config = testConfig({ TEMPORAL_ADDRESS: temporal.address, AMQP_URL: vhost.url, LOG_LEVEL: 'error' });
  try {
    const setup = await connectAmqp(config, { connectionName: 'bench setup' });
    await assertTopology(await setup.createChannel(), config.bridge);
    await setup.close();
    const brokerVersion = (await rabbitmqctl('version')).trim();

    // Warm-up: connections, the server's caches and the JIT, so the first measured figure is not the odd one out.
    await rawStarts(temporal.client, 200, prefetch);

    console.log(`bridge benchmark: ${events} events, prefetch ${prefetch}; RabbitMQ ${brokerVersion}; Temporal dev server in memory; Node ${process.version}`);
    const line = (label: string, value: number) => console.log(`  ${label.padEnd(52)}${format(value)} events/s`);
    const amqpRate = await rawConsumeAndAck(config, vhost, events, prefetch);
    line(`raw amqplib consume+ack (prefetch ${prefetch})`, amqpRate);
    const main = await compare(config, temporal.client, vhost, events, prefetch, 10);
    line(`raw workflow starts (concurrency ${prefetch})`, main.raw);
    line(`bridge, publish -> workflow started (prefetch ${prefetch})`, main.bridge);
    const ratio = main.bridge / Math.min(amqpRate, main.raw);
    console.log(`  bridge / slower raw loop: ${ratio.toFixed(2)} (goal >= 0.90) ${ratio >= 0.9 ? 'met' : 'NOT met'}`);

    console.log(`\nprefetch sweep, ${sweepEvents} events through each (raw starts at the same concurrency, interleaved):`);
    console.log('  prefetch   bridge ev/s   raw starts ev/s   ratio');
    for (const value of sweep) {
      const point = await compare(config, temporal.client, vhost, sweepEvents, value, 4);
      console.log(`  ${String(value).padStart(8)}   ${format(point.bridge)}     ${format(point.raw)}       ${(point.bridge / point.raw).toFixed(2)}`);
    }
  } finally {
    await cleanUp();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
