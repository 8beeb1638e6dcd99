// Records eventNotificationWorkflow histories into test/histories/ for the replay tests, one per path through it.
// Run after a deliberate change of the workflow's behaviour: `npx tsx scripts/record-event-histories.ts`.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startEventNotification } from '../src/bridge/workflow-start';
import { resolveTemporalCli } from '../src/temporal/cli-binary';
import { TASK_QUEUES } from '../src/temporal/task-queues';
import { eventWorkflowId, notificationDedupeKey, type NotificationEvent } from '../src/workflows/event-types';
import { testConfig } from '../test/support/config';
import { createTestDatabase } from '../test/support/database';
import { startSmtpSink } from '../test/support/smtp-sink';
import { startTestTemporal } from '../test/support/temporal';
import { waitFor } from '../test/support/wait';
import { startTestWorker } from '../test/support/worker';

const person = { userId: 'user-1', email: 'recorded@example.com' };

async function main() {
  const [temporal, database, smtp] = await Promise.all([startTestTemporal(), createTestDatabase(), startSmtpSink()]);
  const config = testConfig({ TEMPORAL_ADDRESS: temporal.address, DATABASE_URL: database.url, SMTP_URL: smtp.url });
  const worker = await startTestWorker(config, database, [TASK_QUEUES.transactional]);
  const cli = await resolveTemporalCli();
  try {
    const record = async (name: string, event: NotificationEvent, whileRunning?: (workflowId: string) => Promise<void>) => {
      await startEventNotification(temporal.client, event);
      const workflowId = eventWorkflowId(event.routingKey, event.eventId);
      if (whileRunning) await whileRunning(workflowId);
      await temporal.client.workflow.getHandle(workflowId).result().catch(() => undefined);
      const file = path.join(__dirname, '..', 'test', 'histories', `event-notification-${name}.json`);
      // The CLI writes the same JSON format as the Web UI's download, which the replayer reads.
      writeFileSync(file, execFileSync(cli, ['workflow', 'show', '--workflow-id', workflowId, '--address', temporal.address, '--output', 'json']));
      console.log(`recorded ${file}`);
    };

    await record('sent', {
      routingKey: 'payment.completed',
      eventId: 'recorded-payment',
      body: { ...person, eventId: 'recorded-payment', orderId: 'order-1', amount: 19.9, currency: 'EUR' },
    });

    const duplicate: NotificationEvent = {
      routingKey: 'ticket.purchased',
      eventId: 'recorded-ticket',
      body: { ...person, eventId: 'recorded-ticket', ticketId: 'ticket-1', eventName: 'Spring Concert', eventDate: '2030-05-01T18:00:00Z' },
    };
    // As if Temporal had forgotten an event whose email went out long ago.
    await database.db
      .insertInto('notifications')
      .values({ dedupe_key: notificationDedupeKey(duplicate.routingKey, duplicate.eventId), event_type: duplicate.routingKey, event_id: duplicate.eventId, user_id: person.userId, recipient: person.email, channel: 'email', status: 'sent', sent_at: new Date() })
      .execute();
    await record('already-sent', duplicate);

    await record('reminder-timer', {
      routingKey: 'event.reminder',
      eventId: 'recorded-reminder',
      body: { ...person, eventId: 'recorded-reminder', eventName: 'Jazz Night', startsAt: '2030-06-01T20:00:00Z', remindAt: new Date(Date.now() + 3_000).toISOString() },
    });

    await record(
      'reminder-cancelled',
      {
        routingKey: 'event.reminder',
        eventId: 'recorded-cancelled-reminder',
        body: { ...person, eventId: 'recorded-cancelled-reminder', eventName: 'Jazz Night', startsAt: '2030-06-01T20:00:00Z', remindAt: new Date(Date.now() + 3600_000).toISOString() },
      },
      async (workflowId) => {
        await waitFor(async () => (await temporal.client.workflow.getHandle(workflowId).fetchHistory()).events?.some((event) => event.timerStartedEventAttributes));
        execFileSync(cli, ['workflow', 'cancel', '--workflow-id', workflowId, '--address', temporal.address]);
      },
    );

    smtp.refuse((address) => (address === 'refused@example.com' ? 550 : undefined));
    await record('dead-lettered', {
      routingKey: 'payment.completed',
      eventId: 'recorded-refused-payment',
      body: { ...person, email: 'refused@example.com', eventId: 'recorded-refused-payment', orderId: 'order-2', amount: 5, currency: 'USD' },
    });
  } finally {
    await worker.shutdown();
    await Promise.allSettled([temporal.stop(), smtp.stop()]);
    await database.drop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
