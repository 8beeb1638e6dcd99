import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseEventMessage } from '../../src/bridge/events';
import { eventReminder, paymentCompleted, ticketPurchased } from './fixtures';

const LIMIT = 64 * 1024;
const message = (routingKey: string, body: unknown, messageId?: string) => ({
  routingKey,
  content: Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body)),
  messageId,
});

describe('event message validation', () => {
  it('accepts each event type and resolves the dedupe key', () => {
    for (const [routingKey, body] of [
      ['payment.completed', paymentCompleted('p-1')],
      ['ticket.purchased', ticketPurchased('t-1')],
      ['event.reminder', eventReminder('r-1', { remindAt: '2030-06-01T18:00:00+02:00' })],
    ] as const) {
      const parsed = parseEventMessage(message(routingKey, body), LIMIT);
      assert.equal(parsed.ok, true, JSON.stringify(parsed));
      if (!parsed.ok) continue;
      assert.equal(parsed.event.routingKey, routingKey);
      assert.equal(parsed.dedupeKey, `${routingKey}:${(body as { eventId: string }).eventId}`);
    }
  });

  it('normalises what publishers vary in: numeric ids and lower-case currencies', () => {
    const parsed = parseEventMessage(message('payment.completed', paymentCompleted('p-2', { userId: 17, orderId: 99, currency: 'eur' })), LIMIT);
    assert.ok(parsed.ok);
    assert.equal(parsed.event.routingKey, 'payment.completed');
    assert.deepEqual(
      parsed.event.body && { userId: parsed.event.body.userId, currency: (parsed.event.body as { currency: string }).currency },
      { userId: '17', currency: 'EUR' },
    );
  });

  it('uses the messageId when the body has no eventId, and prefers the body when both exist', () => {
    const { eventId: _omit, ...withoutId } = ticketPurchased();
    const fromMessage = parseEventMessage(message('ticket.purchased', withoutId, 'amqp-id-7'), LIMIT);
    assert.ok(fromMessage.ok);
    assert.equal(fromMessage.event.eventId, 'amqp-id-7');
    assert.equal(fromMessage.event.body.eventId, 'amqp-id-7');
    const fromBody = parseEventMessage(message('ticket.purchased', ticketPurchased('body-id'), 'amqp-id-8'), LIMIT);
    assert.ok(fromBody.ok);
    assert.equal(fromBody.event.eventId, 'body-id');
  });

  const rejections: Array<[string, ReturnType<typeof message>, string, RegExp]> = [
    ['malformed JSON', message('payment.completed', Buffer.from('{"eventId":')), 'malformed-json', /^Malformed JSON/],
    ['a JSON array', message('payment.completed', [1, 2]), 'schema', /body must be a JSON object/],
    ['a missing field', message('payment.completed', { ...paymentCompleted(), orderId: undefined }), 'schema', /orderId: /],
    ['a wrong type', message('payment.completed', paymentCompleted(undefined, { amount: 'ten' })), 'schema', /amount: Invalid input: expected number/],
    ['a negative amount', message('payment.completed', paymentCompleted(undefined, { amount: -1 })), 'schema', /amount: must be 0 or more/],
    ['a bad currency', message('payment.completed', paymentCompleted(undefined, { currency: 'EURO' })), 'schema', /currency: must be a three-letter ISO 4217 code/],
    ['a bad date', message('event.reminder', eventReminder(undefined, { remindAt: 'tomorrow' })), 'schema', /remindAt: must be an ISO 8601 timestamp/],
    ['an unknown routing key', message('user.deleted', paymentCompleted()), 'unknown-routing-key', /^Unknown routing key "user\.deleted"/],
    ['an empty body', message('payment.completed', Buffer.alloc(0)), 'empty', /^Empty body/],
    ['a blank body', message('payment.completed', Buffer.from('  \n')), 'empty', /^Empty body/],
    ['an oversize body', message('payment.completed', Buffer.alloc(LIMIT + 1, 0x20)), 'oversize', /exceeds the limit of 65536 bytes/],
    ['no event id at all', message('payment.completed', { ...paymentCompleted(), eventId: undefined }), 'missing-event-id', /^No event id/],
    ['an empty event id', message('payment.completed', paymentCompleted('  ')), 'schema', /eventId: must not be empty/],
    ['an overlong messageId', message('payment.completed', { ...paymentCompleted(), eventId: undefined }, 'm'.repeat(201)), 'missing-event-id', /longer than 200/],
  ];

  for (const [name, input, kind, reason] of rejections) {
    it(`rejects ${name} with a reason that quotes no personal data`, () => {
      const parsed = parseEventMessage(input, LIMIT);
      assert.equal(parsed.ok, false);
      if (parsed.ok) return;
      assert.equal(parsed.kind, kind);
      assert.match(parsed.reason, reason);
      assert.doesNotMatch(parsed.reason, /@example\.com/);
    });
  }
});
