import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { WorkflowFailedError } from '@temporalio/client';
import { sql } from 'kysely';
import { TOPOLOGY } from '../../src/bridge/topology';
import { resolveTemporalCli } from '../../src/temporal/cli-binary';
import { EVENT_TYPE } from '../../src/temporal/search-attributes';
import { eventWorkflowId } from '../../src/workflows/event-types';
import type { ReceivedMail } from '../support/smtp-sink';
import { waitFor } from '../support/wait';
import { eventReminder, paymentCompleted, startBridgeStack, ticketPurchased, workflowStatus, type BridgeStack } from './fixtures';

const run = promisify(execFile);

describe('bridge and eventNotificationWorkflow', () => {
  let stack: BridgeStack;

  before(async () => {
    stack = await startBridgeStack();
  });

  after(async () => {
    await stack?.stop();
  });

  beforeEach(() => {
    stack.smtp.refuse(undefined);
  });

  const emailsFor = (key: string) => stack.smtp.messages.filter((message) => message.idempotencyKey === key);

  it('delivers one email per event type, rendered from its template, and records each under its dedupe key', async () => {
    const payment = paymentCompleted();
    const ticket = ticketPurchased();
    const reminder = eventReminder();
    await stack.vhost.publish('payment.completed', payment);
    await stack.vhost.publish('ticket.purchased', ticket);
    await stack.vhost.publish('event.reminder', reminder);

    const keys = [`payment.completed:${payment.eventId}`, `ticket.purchased:${ticket.eventId}`, `event.reminder:${reminder.eventId}`];
    await waitFor(() => keys.every((key) => emailsFor(key).length > 0), { message: 'one email per event type' });

    const [paymentMail, ticketMail, reminderMail] = keys.map((key) => emailsFor(key)[0]!) as [ReceivedMail, ReceivedMail, ReceivedMail];
    assert.deepEqual(paymentMail.to, [payment.email]);
    assert.equal(paymentMail.subject, `Payment received for order ${payment.orderId}`);
    assert.match(paymentMail.html, /€42\.50/);
    assert.deepEqual(ticketMail.to, [ticket.email]);
    assert.equal(ticketMail.subject, 'Your ticket for Spring Concert');
    assert.match(ticketMail.html, /Wednesday 1 May 2030 at 18:00 UTC/);
    assert.deepEqual(reminderMail.to, [reminder.email]);
    assert.match(reminderMail.subject, /^Reminder: Jazz Night starts Saturday 1 June 2030 at 20:00 UTC$/);

    // The row commits just after the mail server accepted the message.
    const rows = await waitFor(async () => {
      const found = await stack.database.db.selectFrom('notifications').selectAll().where('dedupe_key', 'in', keys).execute();
      return found.every((row) => row.status !== 'pending') && found.length === keys.length && found;
    });
    assert.deepEqual(rows.map((row) => [row.dedupe_key, row.status, row.channel, row.attempts]).sort(), keys.map((key) => [key, 'sent', 'email', 1]).sort());

    const description = await stack.temporal.client.workflow.getHandle(eventWorkflowId('ticket.purchased', ticket.eventId)).describe();
    assert.equal(description.taskQueue, 'notification-jobs.transactional');
    assert.deepEqual(description.typedSearchAttributes.get(EVENT_TYPE), 'ticket.purchased');
    assert.deepEqual(description.memo ?? {}, {});
    await waitFor(() => keys.every((key) => emailsFor(key).length === 1) && stack.smtp.messages.length >= 3, { message: 'exactly one email each' });
  });

  it('sends one email for an event published five times, and again after its workflow completed', async () => {
    const payment = paymentCompleted();
    const key = `payment.completed:${payment.eventId}`;
    const workflowId = eventWorkflowId('payment.completed', payment.eventId);
    const before = { ...stack.bridge.stats };
    for (let copy = 0; copy < 5; copy++) await stack.vhost.publish('payment.completed', payment);

    await waitFor(async () => (await workflowStatus(stack, workflowId)) === 'COMPLETED', { message: 'the workflow to complete' });
    await waitFor(() => stack.bridge.stats.started + stack.bridge.stats.duplicates >= before.started + before.duplicates + 5, { message: 'five copies handled' });
    await stack.vhost.publish('payment.completed', payment);
    await waitFor(() => stack.bridge.stats.duplicates >= before.duplicates + 5, { message: 'the late copy handled' });

    assert.equal(stack.bridge.stats.started - before.started, 1);
    assert.equal(emailsFor(key).length, 1);
    assert.equal(await stack.vhost.depth(TOPOLOGY.workQueue), 0);
    assert.equal(await stack.vhost.depth(TOPOLOGY.deadLetterQueue), 0);
  });

  it('sends nothing for an event replayed after Temporal no longer keeps its workflow', async () => {
    const ticket = ticketPurchased();
    const key = `ticket.purchased:${ticket.eventId}`;
    const workflowId = eventWorkflowId('ticket.purchased', ticket.eventId);
    await stack.vhost.publish('ticket.purchased', ticket);
    const first = await waitFor(async () => {
      const status = await workflowStatus(stack, workflowId);
      return status === 'COMPLETED' && (await stack.temporal.client.workflow.getHandle(workflowId).result());
    });
    assert.equal(first.outcome, 'sent');

    // What retention does when the namespace's retention period has passed.
    await stack.temporal.client.workflowService.deleteWorkflowExecution({ namespace: 'default', workflowExecution: { workflowId } });
    await waitFor(async () => (await workflowStatus(stack, workflowId)) === undefined, { message: 'the history to be gone' });

    await stack.vhost.publish('ticket.purchased', ticket);
    const replay = await waitFor(async () => {
      const status = await workflowStatus(stack, workflowId);
      return status === 'COMPLETED' && (await stack.temporal.client.workflow.getHandle(workflowId).result());
    });
    assert.equal(replay.outcome, 'already-sent');
    assert.equal(emailsFor(key).length, 1);
  });

  it('takes the AMQP messageId as the event id when the body has none', async () => {
    const messageId = `msg-${randomUUID()}`;
    const { eventId: _omitted, ...body } = paymentCompleted();
    await stack.vhost.publish('payment.completed', body, { messageId });
    await waitFor(() => emailsFor(`payment.completed:${messageId}`).length === 1, { message: 'the email keyed by messageId' });
    const workflowId = eventWorkflowId('payment.completed', messageId);
    await waitFor(async () => (await workflowStatus(stack, workflowId)) === 'COMPLETED', { message: 'its workflow to complete' });
    assert.deepEqual(await stack.temporal.client.workflow.getHandle(workflowId).result(), { outcome: 'sent', dedupeKey: `payment.completed:${messageId}` });
  });

  it('dead-letters every kind of bad message with its reason, never retries it, and keeps consuming', async () => {
    const before = { ...stack.bridge.stats };
    const { email: _missing, ...missingField } = paymentCompleted();
    await stack.vhost.publish('payment.completed', Buffer.from('{"eventId": "x", "userId": '), { messageId: 'malformed' });
    await stack.vhost.publish('payment.completed', missingField, { messageId: 'missing-field' });
    await stack.vhost.publish('ticket.purchased', ticketPurchased(undefined, { eventDate: 'next tuesday' }), { messageId: 'wrong-type' });
    await stack.vhost.sendToQueue(TOPOLOGY.workQueue, Buffer.from(JSON.stringify(paymentCompleted())), { messageId: 'unknown-key', headers: { 'x-routing-key': 'order.refunded' } });
    await stack.vhost.publish('event.reminder', Buffer.alloc(0), { messageId: 'empty' });
    await stack.vhost.publish('payment.completed', Buffer.from(JSON.stringify(paymentCompleted(undefined, { note: 'x'.repeat(1024 * 1024) }))), { messageId: 'oversize' });
    const { eventId: _none, ...anonymous } = paymentCompleted();
    await stack.vhost.publish('payment.completed', anonymous);
    const valid = eventReminder();
    await stack.vhost.publish('event.reminder', valid);

    await waitFor(() => emailsFor(`event.reminder:${valid.eventId}`).length === 1, { message: 'the valid event after the bad ones' });
    await waitFor(async () => (await stack.vhost.depth(TOPOLOGY.deadLetterQueue)) === 7, { message: 'seven dead letters' });
    const dead = await stack.vhost.drain(TOPOLOGY.deadLetterQueue);
    const reasons = Object.fromEntries(dead.map((message) => [message.messageId ?? 'no-id', String(message.headers['x-error'])]));
    assert.match(reasons.malformed!, /^Malformed JSON/);
    assert.match(reasons['missing-field']!, /^Schema violation for payment\.completed: email: /);
    assert.match(reasons['wrong-type']!, /^Schema violation for ticket\.purchased: eventDate: must be an ISO 8601 timestamp/);
    assert.match(reasons['unknown-key']!, /^Unknown routing key "order\.refunded"/);
    assert.match(reasons.empty!, /^Empty body/);
    assert.match(reasons.oversize!, /^Body of \d+ bytes exceeds the limit of 262144 bytes/);
    assert.match(reasons['no-id']!, /^No event id/);
    // The body travels with its reason, so a fixed message can be replayed.
    assert.equal(dead.find((message) => message.messageId === 'oversize')!.content.length > 1024 * 1024, true);
    // No reason quotes the body: it may hold personal data.
    for (const reason of Object.values(reasons)) assert.doesNotMatch(reason, /@example\.com/);

    assert.equal(stack.bridge.stats.deadLettered - before.deadLettered, 7);
    assert.equal(stack.bridge.stats.retried - before.retried, 0);
    assert.equal(await stack.vhost.depth(TOPOLOGY.retryQueue), 0);
    assert.equal(await stack.vhost.depth(TOPOLOGY.workQueue), 0);
  });

  it('dead-letters a bad message whose own headers leave no room for the reason, keeping the reason', async () => {
    await stack.vhost.publish('payment.completed', Buffer.from('not json'), { messageId: 'huge-headers', headers: { 'x-trace': 't'.repeat(65_450) } });
    await waitFor(async () => (await stack.vhost.depth(TOPOLOGY.deadLetterQueue)) === 1, { message: 'the dead letter' });
    const [dead] = await stack.vhost.drain(TOPOLOGY.deadLetterQueue);
    assert.equal(dead!.messageId, 'huge-headers');
    assert.match(String(dead!.headers['x-error']), /^Malformed JSON/);
    // The publisher's headers gave way: with them the frame would not encode.
    assert.equal(dead!.headers['x-trace'], undefined);
    assert.equal(await stack.vhost.depth(TOPOLOGY.workQueue), 0);
  });

  it('waits for a future reminder until remindAt, and a reminder cancelled with `temporal workflow cancel` never sends', async () => {
    const remindAt = new Date(Date.now() + 6_000);
    const soon = eventReminder(undefined, { remindAt: remindAt.toISOString() });
    const later = eventReminder(undefined, { remindAt: new Date(Date.now() + 3600_000).toISOString() });
    await stack.vhost.publish('event.reminder', soon);
    await stack.vhost.publish('event.reminder', later);
    const laterId = eventWorkflowId('event.reminder', later.eventId);
    await waitFor(async () => (await workflowStatus(stack, laterId)) === 'RUNNING', { message: 'the later reminder to be running' });

    const cli = await resolveTemporalCli({ install: false });
    await run(cli, ['workflow', 'cancel', '--workflow-id', laterId, '--address', stack.temporal.address, '--namespace', 'default'], { timeout: 60_000 });
    await waitFor(async () => (await workflowStatus(stack, laterId)) === 'CANCELLED', { message: 'the later reminder to be cancelled' });

    const soonKey = `event.reminder:${soon.eventId}`;
    await waitFor(() => emailsFor(soonKey).length === 1, { message: 'the due reminder' });
    const sentAt = await waitFor(async () => {
      const row = await stack.database.db.selectFrom('notifications').select('sent_at').where('dedupe_key', '=', soonKey).executeTakeFirst();
      return row?.sent_at && row;
    });
    assert.ok(sentAt.sent_at! >= remindAt, `sent at ${sentAt.sent_at?.toISOString()}, before remindAt ${remindAt.toISOString()}`);

    assert.equal(emailsFor(`event.reminder:${later.eventId}`).length, 0);
    const laterRow = await stack.database.db.selectFrom('notifications').selectAll().where('dedupe_key', '=', `event.reminder:${later.eventId}`).executeTakeFirst();
    assert.equal(laterRow, undefined);
  });

  it('dead-letters a notification the mail server refuses for good, without retrying it', async () => {
    const payment = paymentCompleted(undefined, { email: 'nobody@refused.example.com' });
    stack.smtp.refuse((address) => (address === 'nobody@refused.example.com' ? 550 : undefined));
    await stack.vhost.publish('payment.completed', payment);
    const key = `payment.completed:${payment.eventId}`;
    const handle = stack.temporal.client.workflow.getHandle(eventWorkflowId('payment.completed', payment.eventId));
    await waitFor(async () => (await workflowStatus(stack, handle.workflowId)) === 'FAILED', { message: 'the workflow to fail' });
    await assert.rejects(handle.result(), (error: unknown) => {
      assert.ok(error instanceof WorkflowFailedError);
      const message = String(error.cause?.message);
      assert.match(message, /dead-lettered; the reason is in dead_letters/);
      // The provider's words may quote the address: they stay out of Temporal's history.
      assert.doesNotMatch(message, /SMTP|refused\.example/);
      return true;
    });

    const row = await stack.database.db.selectFrom('notifications').selectAll().where('dedupe_key', '=', key).executeTakeFirstOrThrow();
    assert.equal(row.status, 'failed');
    assert.equal(row.attempts, 1);
    const deadLetters = await stack.database.db.selectFrom('dead_letters').selectAll().where('reference', '=', key).execute();
    assert.equal(deadLetters.length, 1);
    assert.equal(deadLetters[0]!.source, 'notification');
    assert.equal(deadLetters[0]!.attempts, 1);
    assert.match(deadLetters[0]!.error, /SMTP 550/);
    assert.equal(emailsFor(key).length, 0);
    const { count } = await sql<{ count: number }>`select count(*)::int as count from dead_letters`.execute(stack.database.db).then((result) => result.rows[0]!);
    assert.equal(count, 1);
  });
});
