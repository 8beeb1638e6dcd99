// What a message on `events` must look like, per routing key, and the one function that turns a raw message into an event.
import { z } from 'zod';
import {
  EVENT_ROUTING_KEYS,
  isEventRoutingKey,
  notificationDedupeKey,
  type EventBodies,
  type EventRoutingKey,
  type NotificationEvent,
} from '../workflows/event-types';

/** Longest event id accepted: it becomes part of a workflow ID and a unique key. */
const MAX_EVENT_ID_LENGTH = 200;

const eventId = z.string().trim().min(1, 'must not be empty').max(MAX_EVENT_ID_LENGTH, `must be at most ${MAX_EVENT_ID_LENGTH} characters`);
const identifier = z.union([z.string().trim().min(1, 'must not be empty').max(200), z.number().int()]).transform(String);
const text = z.string().trim().min(1, 'must not be empty').max(500);
const timestamp = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 timestamp such as 2030-05-01T18:00:00Z' });

const common = {
  eventId: eventId.optional(),
  userId: identifier,
  email: z.email('must be an email address'),
};

export const eventSchemas = {
  'payment.completed': z.object({
    ...common,
    orderId: identifier,
    amount: z.number().finite().nonnegative('must be 0 or more'),
    currency: z
      .string()
      .regex(/^[A-Za-z]{3}$/, 'must be a three-letter ISO 4217 code such as EUR')
      .transform((code) => code.toUpperCase()),
  }),
  'ticket.purchased': z.object({
    ...common,
    ticketId: identifier,
    eventName: text,
    eventDate: timestamp,
  }),
  'event.reminder': z.object({
    ...common,
    eventName: text,
    startsAt: timestamp,
    remindAt: timestamp.optional(),
  }),
} satisfies { [Key in EventRoutingKey]: z.ZodType<EventBodies[Key]> };

/** Why a message can never become a workflow: it goes to the dead-letter queue and is not retried. */
export type RejectionKind = 'oversize' | 'empty' | 'malformed-json' | 'unknown-routing-key' | 'schema' | 'missing-event-id';

export type ParsedMessage =
  | { ok: true; event: NotificationEvent; dedupeKey: string }
  | { ok: false; kind: RejectionKind; reason: string };

export interface RawEventMessage {
  routingKey: string;
  content: Buffer;
  /** The AMQP `messageId` property, the event id when the body has none. */
  messageId?: string;
}

function describeIssues(issues: z.core.$ZodIssue[]): string {
  // Messages name the field and the rule, never the value: the value may be personal data.
  return issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'body'}: ${issue.message}`)
    .join('; ');
}

export function parseEventMessage(message: RawEventMessage, maxBytes: number): ParsedMessage {
  const { routingKey, content } = message;
  if (content.length > maxBytes) {
    return { ok: false, kind: 'oversize', reason: `Body of ${content.length} bytes exceeds the limit of ${maxBytes} bytes (BRIDGE_MAX_MESSAGE_BYTES)` };
  }
  const text = content.toString('utf8');
  if (text.trim() === '') {
    return { ok: false, kind: 'empty', reason: 'Empty body: expected a JSON object' };
  }
  if (!isEventRoutingKey(routingKey)) {
    return { ok: false, kind: 'unknown-routing-key', reason: `Unknown routing key "${routingKey.slice(0, 100)}": expected one of ${EVENT_ROUTING_KEYS.join(', ')}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // The parser's own message quotes the body, which may hold personal data.
    return { ok: false, kind: 'malformed-json', reason: `Malformed JSON: the ${content.length}-byte body does not parse` };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ok: false, kind: 'schema', reason: `Schema violation for ${routingKey}: body must be a JSON object` };
  }
  const parsed = eventSchemas[routingKey].safeParse(json);
  if (!parsed.success) {
    return { ok: false, kind: 'schema', reason: `Schema violation for ${routingKey}: ${describeIssues(parsed.error.issues)}` };
  }
  const fallbackId = message.messageId?.trim();
  const resolvedId = parsed.data.eventId ?? (fallbackId || undefined);
  if (!resolvedId) {
    return { ok: false, kind: 'missing-event-id', reason: 'No event id: the body has no eventId and the message no messageId' };
  }
  if (resolvedId.length > MAX_EVENT_ID_LENGTH) {
    return { ok: false, kind: 'missing-event-id', reason: `The messageId standing in for eventId is longer than ${MAX_EVENT_ID_LENGTH} characters` };
  }
  const event = { routingKey, eventId: resolvedId, body: { ...parsed.data, eventId: resolvedId } } as NotificationEvent;
  return { ok: true, event, dedupeKey: notificationDedupeKey(routingKey, resolvedId) };
}
