// One transactional notification per event: wait for a reminder's time, deliver once, dead-letter what cannot be delivered.
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  log,
  proxyActivities,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { DeadLetterActivities } from '../activities/dead-letters';
import type { DeliveryActivities } from '../activities/delivery';
import { EVENT_TYPE } from '../temporal/search-attributes';
import { notificationDedupeKey, type EventNotificationResult, type NotificationEvent } from './event-types';

/** Attempts at delivery before the notification is dead-lettered: about eight minutes of backoff. */
export const DELIVERY_MAX_ATTEMPTS = 10;

const { deliverEventNotification } = proxyActivities<DeliveryActivities>({
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '2 minutes',
    maximumAttempts: DELIVERY_MAX_ATTEMPTS,
    nonRetryableErrorTypes: ['PermanentDeliveryError', 'TemplateError'],
  },
});

// Bookkeeping of a failure must land eventually, however long the database is away.
const { markNotificationFailed } = proxyActivities<DeliveryActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});
const { recordDeadLetter } = proxyActivities<DeadLetterActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

function failureMessage(error: unknown): string {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof Error ? `${cause.name === 'ApplicationFailure' ? '' : `${cause.name}: `}${cause.message}` : String(cause);
}

function remindDelayMs(event: NotificationEvent): number {
  if (event.routingKey !== 'event.reminder' || !event.body.remindAt) return 0;
  // Workflow time (Date.now() inside a workflow) is deterministic across replays.
  return Date.parse(event.body.remindAt) - Date.now();
}

export async function eventNotificationWorkflow(event: NotificationEvent): Promise<EventNotificationResult> {
  const dedupeKey = notificationDedupeKey(event.routingKey, event.eventId);
  // The bridge sets it at start; an operator's manual start may not have.
  if (workflowInfo().typedSearchAttributes.get(EVENT_TYPE) === undefined) {
    upsertSearchAttributes([{ key: EVENT_TYPE, value: event.routingKey }]);
  }

  const delay = remindDelayMs(event);
  if (delay > 0) {
    log.info('waiting until the reminder is due', { eventType: event.routingKey, eventId: event.eventId, delayMs: delay });
    // A durable timer: survives worker restarts; cancelling the workflow here ends it with nothing sent.
    await sleep(delay);
  }

  try {
    const outcome = await deliverEventNotification(event);
    return { outcome, dedupeKey };
  } catch (error) {
    if (isCancellation(error)) throw error;
    const reason = failureMessage(error);
    await CancellationScope.nonCancellable(async () => {
      const { attempts } = await markNotificationFailed({ dedupeKey, error: reason });
      await recordDeadLetter({ source: 'notification', reference: dedupeKey, payload: event, error: reason, attempts });
    });
    log.warn('notification dead-lettered', { eventType: event.routingKey, eventId: event.eventId });
    // Failed, not completed, so the Web UI's status filter finds it. The provider's reason stays in the
    // dead letter: it may quote the address, and a failure raised in workflow code is stored unencrypted.
    throw ApplicationFailure.create({
      type: 'NotificationDeadLettered',
      message: `Notification ${dedupeKey} dead-lettered; the reason is in dead_letters (source notification, reference ${dedupeKey})`,
      nonRetryable: true,
    });
  }
}
