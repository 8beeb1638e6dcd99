// Message headers the bridge reads and writes, and how a message is copied onto the retry or dead-letter path.
import type { Message, Options } from 'amqplib';

export const HEADERS = {
  /** Why the message is in the dead-letter queue. */
  error: 'x-error',
  /** How many times the bridge tried to start the workflow; counted here, not by the broker. */
  attempts: 'x-bridge-attempts',
  /** The routing key the publisher used, kept when the message travels through the retry or dead-letter queues. */
  routingKey: 'x-routing-key',
  /** When the bridge dead-lettered it (ISO 8601). */
  deadLetteredAt: 'x-dead-lettered-at',
} as const;

/** RabbitMQ's own bookkeeping: meaningless (and on 4.x refused) on a message a client publishes again. */
const BROKER_HEADERS = ['x-death', 'x-first-death-exchange', 'x-first-death-queue', 'x-first-death-reason', 'x-last-death-exchange', 'x-last-death-queue', 'x-last-death-reason', 'x-delivery-count'];

/** Longest `x-error` kept: headers share a 64 KiB frame table with everything else. */
const MAX_ERROR_LENGTH = 1_000;

function header(message: Message, name: string): unknown {
  return (message.properties.headers as Record<string, unknown> | undefined)?.[name];
}

/** The routing key the event was published with, wherever the message has travelled since. */
export function originalRoutingKey(message: Message): string {
  const kept = header(message, HEADERS.routingKey);
  // AMQP routing keys are at most 255 bytes; anything longer cannot be a real one.
  if (typeof kept === 'string' && kept && Buffer.byteLength(kept) <= 255) return kept;
  // Dead-lettered by the broker: x-death remembers the routing keys of the first death.
  const deaths = header(message, 'x-death');
  if (Array.isArray(deaths)) {
    const keys = (deaths.at(-1) as { 'routing-keys'?: unknown } | undefined)?.['routing-keys'];
    if (Array.isArray(keys) && typeof keys[0] === 'string') return keys[0];
  }
  return message.fields.routingKey;
}

export function attemptsSoFar(message: Message): number {
  const value = Number(header(message, HEADERS.attempts) ?? 0);
  return Number.isInteger(value) && value > 0 ? value : 0;
}

export function errorOf(message: Message): string | undefined {
  const value = header(message, HEADERS.error);
  return value === undefined ? undefined : String(value);
}

/** Properties for publishing a copy of `message` again: same id, body type and timestamp, persistent, with `headers` merged in. */
export function republishOptions(message: Message, headers: Record<string, unknown>, remove: string[] = []): Options.Publish {
  const { properties } = message;
  const merged: Record<string, unknown> = { ...(properties.headers ?? {}) };
  for (const name of [...BROKER_HEADERS, ...remove]) delete merged[name];
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) merged[name] = value;
  if (typeof merged[HEADERS.error] === 'string') merged[HEADERS.error] = (merged[HEADERS.error] as string).slice(0, MAX_ERROR_LENGTH);
  return {
    persistent: true,
    contentType: properties.contentType,
    contentEncoding: properties.contentEncoding,
    messageId: properties.messageId,
    correlationId: properties.correlationId,
    timestamp: properties.timestamp,
    type: properties.type,
    appId: properties.appId,
    headers: merged,
  };
}
