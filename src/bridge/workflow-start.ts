// Starting eventNotificationWorkflow for an event: ID, ID policies, search attribute and priority in one place.
import { isGrpcServiceError, WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { EVENT_TYPE } from '../temporal/search-attributes';
import { TASK_QUEUES } from '../temporal/task-queues';
import { eventWorkflowId, type NotificationEvent } from '../workflows/event-types';

/** gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html) the bridge tells apart. */
const GRPC = { invalidArgument: 3, deadlineExceeded: 4, unavailable: 14 } as const;

/** A start that takes longer than this is abandoned and retried later (a duplicate start is harmless). */
const START_DEADLINE_MS = 10_000;

/**
 * Transactional notifications outrank anything else that might share a queue with them (1 is the highest
 * of Temporal's default 1-5); their own task queue already keeps them clear of campaign batches.
 */
export const EVENT_NOTIFICATION_PRIORITY = { priorityKey: 1 } as const;

export type StartOutcome = 'started' | 'duplicate';

/**
 * Starts the event's workflow, or finds that it already exists (running, or closed and still in
 * Temporal's history): both mean the event is in Temporal's hands.
 */
export async function startEventNotification(client: Client, event: NotificationEvent): Promise<StartOutcome> {
  try {
    await client.connection.withDeadline(Date.now() + START_DEADLINE_MS, () =>
      client.workflow.start('eventNotificationWorkflow', {
        taskQueue: TASK_QUEUES.transactional,
        workflowId: eventWorkflowId(event.routingKey, event.eventId),
        args: [event],
        // FAIL + REJECT_DUPLICATE: any existing execution with this ID, open or closed, turns the start into
        // WorkflowExecutionAlreadyStartedError, which tells a duplicate apart from a first delivery.
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: [{ key: EVENT_TYPE, value: event.routingKey }],
        priority: EVENT_NOTIFICATION_PRIORITY,
      }),
    );
    return 'started';
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return 'duplicate';
    throw error;
  }
}

function grpcCode(error: unknown): number | undefined {
  for (let current: unknown = error; current; current = (current as { cause?: unknown }).cause) {
    if (isGrpcServiceError(current)) return current.code;
  }
  return undefined;
}

/** The server refused the request itself (say, an ID it cannot accept): retrying the same message cannot help. */
export function isPermanentStartFailure(error: unknown): boolean {
  return grpcCode(error) === GRPC.invalidArgument;
}

/** The server cannot be reached at all, as opposed to refusing one request. */
export function isTemporalUnreachable(error: unknown): boolean {
  const code = grpcCode(error);
  return code === GRPC.unavailable || code === GRPC.deadlineExceeded;
}
