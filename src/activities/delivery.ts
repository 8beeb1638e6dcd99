// Transactional delivery: one email per event, recorded under its dedupe key so no replay ever sends it twice.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { sql, type Kysely } from 'kysely';
import { PermanentDeliveryError, type Channels } from '../channels/channel';
import { TemplateError } from '../channels/templates';
import type { Database } from '../db/schema';
import type { Logger } from '../logger';
import { recordSend } from '../ops/metrics';
import { notificationDedupeKey, type DeliveryOutcome, type NotificationEvent } from '../workflows/event-types';
import { renderEventEmail } from './event-templates';

export interface DeliveryDependencies {
  db: Kysely<Database>;
  channels: Channels;
  logger: Logger;
}

export interface FailedNotification {
  dedupeKey: string;
  error: string;
}

/** Errors after which a retry would fail the same way. */
function isPermanentFailure(error: unknown): error is PermanentDeliveryError | TemplateError {
  return error instanceof PermanentDeliveryError || error instanceof TemplateError;
}

function asNonRetryable(error: unknown): unknown {
  if (isPermanentFailure(error)) {
    return ApplicationFailure.create({ message: error.message, type: error.name, nonRetryable: true });
  }
  return error;
}

export function createDeliveryActivities({ db, channels, logger }: DeliveryDependencies) {
  return {
    /**
     * Sends the event's email unless its dedupe key is already `sent`. The row is locked for the
     * send, so two attempts that overlap (a timed-out attempt still running) cannot both send; a
     * crash between the SMTP server's acceptance and the commit is the one case that sends again,
     * with the same Message-ID, which mail systems collapse.
     */
    async deliverEventNotification(event: NotificationEvent): Promise<DeliveryOutcome> {
      const dedupeKey = notificationDedupeKey(event.routingKey, event.eventId);
      const attempt = Context.current().info.attempt;
      await db
        .insertInto('notifications')
        .values({
          dedupe_key: dedupeKey,
          event_type: event.routingKey,
          event_id: event.eventId,
          user_id: event.body.userId,
          recipient: event.body.email,
          channel: 'email',
        })
        .onConflict((conflict) => conflict.column('dedupe_key').doNothing())
        .execute();

      try {
        return await db.transaction().execute(async (trx) => {
          const row = await trx
            .selectFrom('notifications')
            .select(['status'])
            .where('dedupe_key', '=', dedupeKey)
            .forUpdate()
            .executeTakeFirstOrThrow();
          if (row.status === 'sent') {
            logger.info({ dedupeKey, eventType: event.routingKey }, 'notification already sent; nothing to do');
            return 'already-sent';
          }
          const email = renderEventEmail(event);
          await channels.email.send({
            to: event.body.email,
            subject: email.subject,
            body: email.body,
            idempotencyKey: dedupeKey,
            metadata: { eventType: event.routingKey, eventId: event.eventId },
          });
          recordSend('email', 'sent');
          await trx
            .updateTable('notifications')
            .set({ status: 'sent', sent_at: sql<Date>`now()`, attempts: sql<number>`attempts + 1`, last_error: null })
            .where('dedupe_key', '=', dedupeKey)
            .execute();
          logger.info({ dedupeKey, eventType: event.routingKey, attempt }, 'notification sent');
          return 'sent';
        });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        recordSend('email', isPermanentFailure(error) ? 'failed' : 'retried');
        await db
          .updateTable('notifications')
          .set({ attempts: sql<number>`attempts + 1`, last_error: message.slice(0, 1_000) })
          .where('dedupe_key', '=', dedupeKey)
          .where('status', '!=', 'sent')
          .execute()
          .catch((recordError: unknown) => logger.warn({ err: recordError, dedupeKey }, 'could not record the failed attempt'));
        throw asNonRetryable(error);
      }
    },

    /** Marks the notification failed after its last attempt; returns how many attempts were made. */
    async markNotificationFailed({ dedupeKey, error }: FailedNotification): Promise<{ attempts: number }> {
      const row = await db
        .updateTable('notifications')
        .set({ status: 'failed', last_error: error.slice(0, 1_000) })
        .where('dedupe_key', '=', dedupeKey)
        .where('status', '!=', 'sent')
        .returning(['attempts'])
        .executeTakeFirst();
      return { attempts: row?.attempts ?? 0 };
    },
  };
}

export type DeliveryActivities = ReturnType<typeof createDeliveryActivities>;
