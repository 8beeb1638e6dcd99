// A fresh RabbitMQ vhost per test file, so tests never touch the default vhost's queues, and helpers to publish and inspect.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import amqp, { type ChannelModel, type ConfirmChannel, type GetMessage, type Options } from 'amqplib';
import { TOPOLOGY } from '../../src/bridge/topology';

const run = promisify(execFile);
const BROKER = process.env.TEST_AMQP_BROKER ?? 'amqp://guest:guest@127.0.0.1:5672';
const USER = new URL(BROKER).username || 'guest';

export async function rabbitmqctl(...args: string[]): Promise<string> {
  const { stdout } = await run('rabbitmqctl', ['--quiet', ...args], { timeout: 60_000 });
  return stdout;
}

export interface PublishedEvent {
  routingKey: string;
  body: unknown;
  messageId?: string;
}

export interface DrainedMessage {
  routingKey: string;
  content: Buffer;
  headers: Record<string, unknown>;
  messageId?: string;
}

export interface TestVhost {
  name: string;
  /** AMQP_URL for the services under test. */
  url: string;
  /** Publishes to exchange `events` with confirms; reconnects after the broker closed its connection. */
  publish(routingKey: string, body: unknown, options?: Options.Publish): Promise<void>;
  /** Publishes a raw body straight into a queue (default exchange). */
  sendToQueue(queue: string, content: Buffer, options?: Options.Publish): Promise<void>;
  publishMany(events: PublishedEvent[]): Promise<void>;
  /** Ready messages in a queue (0 when it does not exist yet). */
  depth(queue: string): Promise<number>;
  /** Takes every message from a queue (acknowledged: they are gone afterwards). */
  drain(queue: string): Promise<DrainedMessage[]>;
  /** Forcibly closes every connection in this vhost, as `rabbitmqctl close_all_connections` does. */
  closeAllConnections(reason?: string): Promise<void>;
  /** Connections open in this vhost right now. */
  connectionCount(): Promise<number>;
  delete(): Promise<void>;
}

export async function createTestVhost(): Promise<TestVhost> {
  const name = `nj_test_${randomBytes(5).toString('hex')}`;
  await rabbitmqctl('add_vhost', name);
  await rabbitmqctl('set_permissions', '-p', name, USER, '.*', '.*', '.*');
  const url = `${BROKER}/${encodeURIComponent(name)}`;

  let connection: ChannelModel | undefined;
  let channel: ConfirmChannel | undefined;
  const ensureChannel = async (): Promise<ConfirmChannel> => {
    if (channel) return channel;
    const opened = await amqp.connect(url);
    opened.on('error', () => undefined);
    const opening = await opened.createConfirmChannel();
    opening.on('error', () => undefined);
    opened.on('close', () => {
      if (connection === opened) {
        connection = undefined;
        channel = undefined;
      }
    });
    opening.on('close', () => {
      if (channel === opening) channel = undefined;
    });
    connection = opened;
    channel = opening;
    return opening;
  };

  const confirmed = async (send: (target: ConfirmChannel) => void): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        const target = await ensureChannel();
        send(target);
        await target.waitForConfirms();
        return;
      } catch (error) {
        if (attempt >= 5) throw error;
        channel = undefined;
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
  };

  const encode = (body: unknown) => (Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body)));

  const vhost: TestVhost = {
    name,
    url,
    publish: (routingKey, body, options = {}) =>
      confirmed((target) => target.publish(TOPOLOGY.eventsExchange, routingKey, encode(body), { persistent: true, contentType: 'application/json', ...options })),
    sendToQueue: (queue, content, options = {}) => confirmed((target) => target.sendToQueue(queue, content, { persistent: true, ...options })),
    async publishMany(events) {
      // Chunks keep the unconfirmed window bounded; a retried chunk may duplicate a few events, which the bridge absorbs.
      for (let index = 0; index < events.length; index += 200) {
        const chunk = events.slice(index, index + 200);
        await confirmed((target) => {
          for (const event of chunk) {
            target.publish(TOPOLOGY.eventsExchange, event.routingKey, encode(event.body), {
              persistent: true,
              contentType: 'application/json',
              messageId: event.messageId,
            });
          }
        });
      }
    },
    async depth(queue) {
      const probe = await amqp.connect(url);
      try {
        const probeChannel = await probe.createChannel();
        probeChannel.on('error', () => undefined);
        return (await probeChannel.checkQueue(queue)).messageCount;
      } catch {
        return 0;
      } finally {
        await probe.close().catch(() => undefined);
      }
    },
    async drain(queue) {
      const reader = await amqp.connect(url);
      try {
        const readerChannel = await reader.createChannel();
        const messages: DrainedMessage[] = [];
        for (let message: GetMessage | false; (message = await readerChannel.get(queue, { noAck: true })); ) {
          messages.push({
            routingKey: message.fields.routingKey,
            content: message.content,
            headers: (message.properties.headers ?? {}) as Record<string, unknown>,
            messageId: message.properties.messageId,
          });
        }
        return messages;
      } finally {
        await reader.close().catch(() => undefined);
      }
    },
    async closeAllConnections(reason = 'closed by a test') {
      await rabbitmqctl('close_all_connections', '-p', name, reason);
    },
    async connectionCount() {
      const listing = await rabbitmqctl('list_connections', 'vhost', '--no-table-headers');
      return listing.split('\n').filter((line) => line.trim() === name).length;
    },
    async delete() {
      await connection?.close().catch(() => undefined);
      await rabbitmqctl('delete_vhost', name).catch(() => undefined);
    },
  };
  return vhost;
}

/** Every queue of the bridge's topology, for depth checks. */
export const BRIDGE_QUEUES = [TOPOLOGY.workQueue, TOPOLOGY.retryQueue, TOPOLOGY.deadLetterQueue] as const;
