// Reading and re-driving the bridge's dead-letter queue, for operators after a fix.
import type { Channel, ConfirmChannel, GetMessage } from 'amqplib';
import { attemptsSoFar, errorOf, HEADERS, originalRoutingKey, republishOptions } from './headers';
import { TOPOLOGY } from './topology';

export interface DeadLetteredMessage {
  routingKey: string;
  messageId?: string;
  /** From the body when it parses, else the messageId: what the workflow ID would be built from. */
  eventId?: string;
  reason: string;
  deadLetteredAt?: string;
  attempts: number;
  bytes: number;
}

function eventIdOf(message: GetMessage): string | undefined {
  try {
    const body = JSON.parse(message.content.toString('utf8')) as { eventId?: unknown };
    if (typeof body?.eventId === 'string') return body.eventId;
  } catch {
    // Not JSON: that is probably why it is here.
  }
  return message.properties.messageId;
}

function reasonOf(message: GetMessage): string {
  const explicit = errorOf(message);
  if (explicit) return explicit;
  // Dead-lettered by the broker itself: message TTL, a rejection, or a quorum queue's delivery limit.
  const deaths = (message.properties.headers as Record<string, unknown> | undefined)?.['x-death'];
  const death = Array.isArray(deaths) ? (deaths[0] as { reason?: unknown; queue?: unknown }) : undefined;
  return death ? `Dead-lettered by RabbitMQ (${String(death.reason)}) from queue ${String(death.queue)}` : 'No reason recorded';
}

function describe(message: GetMessage): DeadLetteredMessage {
  const headers = (message.properties.headers ?? {}) as Record<string, unknown>;
  const deadLetteredAt = headers[HEADERS.deadLetteredAt];
  return {
    routingKey: originalRoutingKey(message),
    messageId: message.properties.messageId,
    eventId: eventIdOf(message),
    reason: reasonOf(message),
    deadLetteredAt: typeof deadLetteredAt === 'string' ? deadLetteredAt : undefined,
    attempts: attemptsSoFar(message),
    bytes: message.content.length,
  };
}

/** Fails with an operator-readable message when the bridge has never declared its queues here. */
export async function deadLetterQueueDepth(channel: Channel): Promise<number> {
  try {
    return (await channel.checkQueue(TOPOLOGY.deadLetterQueue)).messageCount;
  } catch (error) {
    if ((error as { code?: number }).code === 404) {
      throw new Error(`Queue ${TOPOLOGY.deadLetterQueue} does not exist in this vhost: the bridge has not run here yet, or AMQP_URL names another vhost`);
    }
    throw error;
  }
}

/**
 * Up to `limit` messages from the head of the queue, left in place: they are fetched unacknowledged
 * and returned to the queue when the channel closes.
 */
export async function listDeadLetters(channel: Channel, limit: number): Promise<{ messages: DeadLetteredMessage[]; total: number }> {
  const total = await deadLetterQueueDepth(channel);
  const messages: DeadLetteredMessage[] = [];
  while (messages.length < limit) {
    const message = await channel.get(TOPOLOGY.deadLetterQueue, { noAck: false });
    if (!message) break;
    messages.push(describe(message));
  }
  channel.nackAll(true);
  return { messages, total };
}

/**
 * Moves up to `limit` messages back to the work queue, oldest first, with their routing key and a
 * fresh attempt count. Each is acknowledged only after the broker confirmed its copy, so a crash
 * midway duplicates at most a batch (which the bridge absorbs) and loses nothing.
 */
export async function replayDeadLetters(channel: ConfirmChannel, limit: number, batchSize = 100): Promise<{ replayed: DeadLetteredMessage[]; remaining: number }> {
  await deadLetterQueueDepth(channel);
  // A copy sent to a missing queue would be dropped silently, and its original acknowledged.
  await channel.checkQueue(TOPOLOGY.workQueue);
  const replayed: DeadLetteredMessage[] = [];
  while (replayed.length < limit) {
    const batch: GetMessage[] = [];
    while (batch.length < Math.min(batchSize, limit - replayed.length)) {
      const message = await channel.get(TOPOLOGY.deadLetterQueue, { noAck: false });
      if (!message) break;
      batch.push(message);
    }
    if (batch.length === 0) break;
    for (const message of batch) {
      const options = republishOptions(message, { [HEADERS.routingKey]: originalRoutingKey(message) }, [HEADERS.error, HEADERS.attempts, HEADERS.deadLetteredAt]);
      channel.publish('', TOPOLOGY.workQueue, message.content, options);
    }
    await channel.waitForConfirms();
    for (const message of batch) {
      channel.ack(message);
      replayed.push(describe(message));
    }
  }
  return { replayed, remaining: await deadLetterQueueDepth(channel) };
}
