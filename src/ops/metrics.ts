// The service's own metrics. They are recorded through the Temporal SDK runtime's metric meter, so the
// Prometheus endpoint of the runtime (METRICS_ADDRESS, BRIDGE_METRICS_ADDRESS) serves them next to the
// SDK's own: one scrape target per process. Recording never throws: a metric must not fail a send.
import type { MetricCounter, MetricHistogram, MetricMeter } from '@temporalio/common';
import { Runtime } from '@temporalio/worker';
import type { Channel, DeadLetterSource } from '../db/schema';
import type { RetentionTable } from '../workflows/retention-types';

/** What happened to one delivery attempt: delivered, given up for good, or left for a later retry. */
export type SendOutcome = 'sent' | 'failed' | 'retried';
/** Where a campaign recipient ended: each recipient is counted once, when it reaches `sent` or `failed`. */
export type RecipientOutcome = 'sent' | 'failed';
/** What the bridge did with one message (the bridge's MessageOutcome). */
export type BridgeOutcome = 'started' | 'duplicate' | 'retried' | 'dead-lettered';

/** Names as Prometheus shows them (the SDK's own metrics carry the `temporal_` prefix). */
export const METRIC_NAMES = {
  sends: 'notification_jobs_sends_total',
  campaignRecipients: 'notification_jobs_campaign_recipients_processed_total',
  campaignBatchDuration: 'notification_jobs_campaign_batch_duration_ms',
  retentionRowsDeleted: 'notification_jobs_retention_rows_deleted_total',
  bridgeMessages: 'notification_jobs_bridge_messages_total',
  bridgeReconnects: 'notification_jobs_bridge_reconnects_total',
  deadLetters: 'notification_jobs_dead_letters_total',
} as const;

interface Instruments {
  sends: MetricCounter;
  campaignRecipients: MetricCounter;
  campaignBatchDuration: MetricHistogram;
  retentionRowsDeleted: MetricCounter;
  bridgeMessages: MetricCounter;
  bridgeReconnects: MetricCounter;
  deadLetters: MetricCounter;
}

function createInstruments(meter: MetricMeter): Instruments {
  return {
    sends: meter.createCounter(METRIC_NAMES.sends, undefined, 'Delivery attempts by channel and outcome (sent, failed, retried)'),
    campaignRecipients: meter.createCounter(METRIC_NAMES.campaignRecipients, undefined, 'Campaign recipients that reached sent or failed'),
    campaignBatchDuration: meter.createHistogram(METRIC_NAMES.campaignBatchDuration, 'int', 'ms', 'Duration of one campaign send batch'),
    retentionRowsDeleted: meter.createCounter(METRIC_NAMES.retentionRowsDeleted, undefined, 'Rows deleted by data retention, by table'),
    bridgeMessages: meter.createCounter(METRIC_NAMES.bridgeMessages, undefined, 'RabbitMQ messages handled by the bridge, by outcome'),
    bridgeReconnects: meter.createCounter(METRIC_NAMES.bridgeReconnects, undefined, 'Times the bridge reconnected to RabbitMQ'),
    deadLetters: meter.createCounter(METRIC_NAMES.deadLetters, undefined, 'Dead letters recorded, by source'),
  };
}

// The runtime can be replaced (it shuts down when its last worker goes), so instruments follow the current one.
let current: { runtime: Runtime; instruments: Instruments } | undefined;

function record(use: (instruments: Instruments) => void): void {
  try {
    // Never creates a runtime: without one (a CLI, a unit test) there is no endpoint to serve the values.
    const runtime = Runtime._instance;
    if (!runtime) return;
    if (current?.runtime !== runtime) current = { runtime, instruments: createInstruments(runtime.metricMeter) };
    use(current.instruments);
  } catch {
    // Metrics are best effort.
  }
}

export function recordSend(channel: Channel, outcome: SendOutcome, count = 1): void {
  if (count > 0) record((m) => m.sends.add(count, { channel, outcome }));
}

export function recordCampaignRecipients(outcome: RecipientOutcome, count = 1): void {
  if (count > 0) record((m) => m.campaignRecipients.add(count, { outcome }));
}

export function recordCampaignBatchDuration(milliseconds: number): void {
  record((m) => m.campaignBatchDuration.record(Math.max(0, Math.round(milliseconds))));
}

/** Has the shape of createRetentionActivities' `onBatchDeleted`, so it can be passed as is. */
export function recordRetentionRowsDeleted(table: RetentionTable, rows: number): void {
  if (rows > 0) record((m) => m.retentionRowsDeleted.add(rows, { table }));
}

export function recordBridgeMessage(outcome: BridgeOutcome): void {
  record((m) => m.bridgeMessages.add(1, { outcome }));
}

/** For the bridge's `onOutcome`: the message by outcome, and a dead-lettered one as a dead letter of source `bridge`. */
export function recordBridgeOutcome(outcome: BridgeOutcome): void {
  recordBridgeMessage(outcome);
  if (outcome === 'dead-lettered') recordDeadLetter('bridge');
}

export function recordBridgeReconnect(): void {
  record((m) => m.bridgeReconnects.add(1));
}

export function recordDeadLetter(source: DeadLetterSource, count = 1): void {
  if (count > 0) record((m) => m.deadLetters.add(count, { source }));
}
