// Events as publishers send them, and the full stack the bridge tests run against (real servers only).
import { randomUUID } from 'node:crypto';
import type { WorkflowExecutionStatusName } from '@temporalio/client';
import { sql } from 'kysely';
import { createEventBridge, type EventBridge } from '../../src/bridge/bridge';
import type { Config } from '../../src/config';
import { createLogger } from '../../src/logger';
import { TASK_QUEUES } from '../../src/temporal/task-queues';
import { testConfig } from '../support/config';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { createTestVhost, type TestVhost } from '../support/rabbitmq';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { startTestTemporal, type TestTemporal } from '../support/temporal';
import { waitFor } from '../support/wait';
import { startTestWorker, type TestWorker } from '../support/worker';

export const paymentCompleted = (eventId: string | undefined = randomUUID(), overrides: Record<string, unknown> = {}) => ({
  eventId,
  userId: 'user-1',
  email: `buyer-${eventId ?? 'anonymous'}@example.com`,
  orderId: `order-${eventId ?? 'x'}`.slice(0, 60),
  amount: 42.5,
  currency: 'EUR',
  ...overrides,
});

export const ticketPurchased = (eventId: string = randomUUID(), overrides: Record<string, unknown> = {}) => ({
  eventId,
  userId: 'user-2',
  email: `fan-${eventId}@example.com`,
  ticketId: `ticket-${eventId}`.slice(0, 60),
  eventName: 'Spring Concert',
  eventDate: '2030-05-01T18:00:00Z',
  ...overrides,
});

export const eventReminder = (eventId: string = randomUUID(), overrides: Record<string, unknown> = {}) => ({
  eventId,
  userId: 'user-3',
  email: `guest-${eventId}@example.com`,
  eventName: 'Jazz Night',
  startsAt: '2030-06-01T20:00:00Z',
  ...overrides,
});

export interface BridgeStack {
  temporal: TestTemporal;
  database: TestDatabase;
  vhost: TestVhost;
  smtp: SmtpSink;
  config: Config;
  worker: TestWorker;
  bridge: EventBridge;
  /** Stops everything the stack started, whatever state it is in. */
  stop(): Promise<void>;
}

export interface StackOptions {
  env?: Record<string, string>;
  /** Keep Temporal's history in this SQLite file, so it survives server.stop() / restart(). */
  temporalDatabaseFile?: string;
  /** Start no in-process bridge (the test runs its own, for example as a child process). */
  withoutBridge?: boolean;
}

export async function startBridgeStack(options: StackOptions = {}): Promise<BridgeStack> {
  const [temporal, database, vhost, smtp] = await Promise.all([
    startTestTemporal({ databaseFile: options.temporalDatabaseFile }),
    createTestDatabase(),
    createTestVhost(),
    startSmtpSink(),
  ]);
  const config = testConfig({
    TEMPORAL_ADDRESS: temporal.address,
    DATABASE_URL: database.url,
    AMQP_URL: vhost.url,
    SMTP_URL: smtp.url,
    BRIDGE_RETRY_DELAY_MS: '500',
    // The SDK warns at every reconnect attempt of an outage test; failures still show.
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    ...options.env,
  });
  const worker = await startTestWorker(config, database, [TASK_QUEUES.transactional]);
  const bridge = createEventBridge({ config, logger: createLogger(config, 'bridge') });
  if (!options.withoutBridge) await bridge.start();
  return {
    temporal,
    database,
    vhost,
    smtp,
    config,
    worker,
    bridge,
    async stop() {
      await bridge.stop().catch(() => undefined);
      await worker.shutdown().catch(() => undefined);
      await Promise.allSettled([temporal.stop(), smtp.stop(), vhost.delete()]);
      await database.drop();
    },
  };
}

/** Emails the sink accepted, by idempotency key (`<routingKey>:<eventId>`). */
export function deliveriesByKey(smtp: SmtpSink): Map<string, number> {
  return smtp.countsByIdempotencyKey();
}

export async function notificationStatuses(stack: BridgeStack): Promise<Record<string, number>> {
  const rows = await stack.database.db
    .selectFrom('notifications')
    .select(['status', sql<number>`count(*)::int`.as('count')])
    .groupBy('status')
    .execute();
  return Object.fromEntries(rows.map((row) => [row.status, row.count]));
}

export async function workflowStatus(stack: BridgeStack, workflowId: string): Promise<WorkflowExecutionStatusName | undefined> {
  try {
    return (await stack.temporal.client.workflow.getHandle(workflowId).describe()).status.name;
  } catch {
    return undefined;
  }
}

/** Waits until exactly `count` distinct emails arrived, then checks none arrived twice. */
export async function waitForDeliveries(smtp: SmtpSink, count: number, timeoutMs = 120_000): Promise<Map<string, number>> {
  await waitFor(() => smtp.messages.length >= count, { timeoutMs, intervalMs: 200, message: `${count} emails (have ${smtp.messages.length})` });
  return smtp.countsByIdempotencyKey();
}
