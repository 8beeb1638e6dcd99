// The events the bridge turns into eventNotificationWorkflow runs, shared by the bridge, the workflow and its activities.

/** Routing keys on exchange `events` that produce a notification. */
export const EVENT_ROUTING_KEYS = ['payment.completed', 'ticket.purchased', 'event.reminder'] as const;
export type EventRoutingKey = (typeof EVENT_ROUTING_KEYS)[number];

export function isEventRoutingKey(value: string): value is EventRoutingKey {
  return (EVENT_ROUTING_KEYS as readonly string[]).includes(value);
}

interface EventBody {
  /** Optional on the wire: the AMQP messageId stands in when it is absent. */
  eventId?: string;
  userId: string;
  email: string;
}

export interface PaymentCompletedBody extends EventBody {
  orderId: string;
  amount: number;
  /** ISO 4217 code, upper case. */
  currency: string;
}

export interface TicketPurchasedBody extends EventBody {
  ticketId: string;
  eventName: string;
  /** ISO 8601 timestamp. */
  eventDate: string;
}

export interface EventReminderBody extends EventBody {
  eventName: string;
  /** ISO 8601 timestamp. */
  startsAt: string;
  /** ISO 8601 timestamp; absent or past means "remind now". */
  remindAt?: string;
}

export interface EventBodies {
  'payment.completed': PaymentCompletedBody;
  'ticket.purchased': TicketPurchasedBody;
  'event.reminder': EventReminderBody;
}

/** The argument of eventNotificationWorkflow: a validated message with its resolved event id. */
export type NotificationEvent = {
  [Key in EventRoutingKey]: { routingKey: Key; eventId: string; body: EventBodies[Key] };
}[EventRoutingKey];

export type DeliveryOutcome = 'sent' | 'already-sent';

export interface EventNotificationResult {
  outcome: DeliveryOutcome;
  dedupeKey: string;
}

/** The workflow ID that makes a redelivered event a no-op while its history is kept. */
export function eventWorkflowId(routingKey: string, eventId: string): string {
  return `event-${routingKey}-${eventId}`;
}

/** The key in `notifications.dedupe_key` that makes a redelivered event a no-op for ever after. */
export function notificationDedupeKey(routingKey: string, eventId: string): string {
  return `${routingKey}:${eventId}`;
}
