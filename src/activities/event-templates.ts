// The email each event type sends: subject and HTML body templates, and the values they are rendered with.
import { renderTemplate } from '../channels/templates';
import type { EventBodies, EventRoutingKey, NotificationEvent } from '../workflows/event-types';

interface EventTemplate<Key extends EventRoutingKey> {
  subject: string;
  body: string;
  variables(body: EventBodies[Key]): Record<string, unknown>;
}

const dateParts = new Intl.DateTimeFormat('en-GB', {
  weekday: 'long',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
  timeZone: 'UTC',
});

/** "Wednesday 1 May 2030 at 18:00 UTC", assembled from parts so ICU versions cannot change the punctuation. */
function formatDateTime(iso: string): string {
  const part = Object.fromEntries(dateParts.formatToParts(new Date(iso)).map(({ type, value }) => [type, value]));
  return `${part.weekday} ${part.day} ${part.month} ${part.year} at ${part.hour}:${part.minute} UTC`;
}

function formatAmount(amount: number, currency: string): string {
  try {
    return new Intl.NumberFormat('en-GB', { style: 'currency', currency }).format(amount);
  } catch {
    // A well-formed code Intl does not know (a new or private currency): show it plainly.
    return `${amount.toFixed(2)} ${currency}`;
  }
}

export const EVENT_TEMPLATES: { [Key in EventRoutingKey]: EventTemplate<Key> } = {
  'payment.completed': {
    subject: 'Payment received for order {{orderId}}',
    body:
      '<p>Thank you for your payment.</p>' +
      '<p>We received <strong>{{amount}}</strong> for order <strong>{{orderId}}</strong>.</p>' +
      '<p>Reference: {{eventId}}</p>',
    variables: (body) => ({ orderId: body.orderId, amount: formatAmount(body.amount, body.currency), eventId: body.eventId }),
  },
  'ticket.purchased': {
    subject: 'Your ticket for {{eventName}}',
    body:
      '<p>Your ticket <strong>{{ticketId}}</strong> for <strong>{{eventName}}</strong> is confirmed.</p>' +
      '<p>The event takes place on {{eventDate}}.</p>',
    variables: (body) => ({ ticketId: body.ticketId, eventName: body.eventName, eventDate: formatDateTime(body.eventDate) }),
  },
  'event.reminder': {
    subject: 'Reminder: {{eventName}} starts {{startsAt}}',
    body: '<p>This is a reminder that <strong>{{eventName}}</strong> starts on {{startsAt}}.</p><p>See you there.</p>',
    variables: (body) => ({ eventName: body.eventName, startsAt: formatDateTime(body.startsAt) }),
  },
};

export interface RenderedEmail {
  subject: string;
  body: string;
}

/** Throws TemplateError (not worth retrying) when a template cannot be rendered. */
export function renderEventEmail(event: NotificationEvent): RenderedEmail {
  const template = EVENT_TEMPLATES[event.routingKey] as EventTemplate<EventRoutingKey>;
  const variables = template.variables(event.body as never);
  return {
    subject: renderTemplate(template.subject, variables, 'text'),
    body: renderTemplate(template.body, variables, 'html'),
  };
}
