// Prometheus metrics: the SDK's and ours on the runtime's one endpoint (METRICS_ADDRESS), with real values
// after real work.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { NativeConnection, Worker } from '@temporalio/worker';
import { sql } from 'kysely';
import pino from 'pino';
import { createRetentionActivities } from '../../src/activities/retention';
import type { Config } from '../../src/config';
import {
  METRIC_NAMES,
  recordBridgeMessage,
  recordBridgeOutcome,
  recordBridgeReconnect,
  recordCampaignBatchDuration,
  recordCampaignRecipients,
  recordDeadLetter,
  recordRetentionRowsDeleted,
  recordSend,
} from '../../src/ops/metrics';
import { temporalConnectionOptions } from '../../src/temporal/connection';
import { createDataConverter } from '../../src/temporal/data-converter';
import { TASK_QUEUES } from '../../src/temporal/task-queues';
import { installRuntime } from '../../src/workers/runtime';
import { testConfig } from '../support/config';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { freePort } from '../support/ports';
import { startTestTemporal, type TestTemporal } from '../support/temporal';
import { waitFor } from '../support/wait';
import { prebuiltWorkflowBundle } from '../support/worker-process';

/** Sum of the samples of `name` whose labels include `labels`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let total: number | undefined;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? ([^ ]+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((pair) => [pair[1], pair[2]]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) total = (total ?? 0) + Number(match[3]);
  }
  return total;
}

describe('Prometheus metrics', () => {
  let temporal: TestTemporal;
  let database: TestDatabase;
  let config: Config;
  let metricsUrl: string;
  const scrape = async () => (await fetch(metricsUrl)).text();

  before(async () => {
    [temporal, database] = await Promise.all([startTestTemporal(), createTestDatabase()]);
    config = testConfig({ TEMPORAL_ADDRESS: temporal.address, DATABASE_URL: database.url, METRICS_ADDRESS: `127.0.0.1:${await freePort()}` });
    installRuntime(config, pino({ level: 'silent' }));
    metricsUrl = `http://${config.metricsAddress}/metrics`;
  });

  after(async () => {
    await Promise.allSettled([temporal?.stop(), database?.drop()]);
  });

  it('counts retention rows deleted by table next to the SDK metrics, and serves every counter of the service', async () => {
    const old = sql`now() - interval '400 days'`;
    await sql`insert into notifications (dedupe_key, event_type, event_id, recipient, channel, created_at)
      select 'payment.completed:' || n, 'payment.completed', n::text, 'someone@example.org', 'email', ${old} from generate_series(1, 7) n`.execute(database.db);
    await sql`insert into dead_letters (source, reference, payload, error, attempts, created_at)
      select 'bridge', 'm' || n, '{}'::jsonb, 'x', 1, ${old} from generate_series(1, 3) n`.execute(database.db);

    const connection = await NativeConnection.connect(temporalConnectionOptions(config));
    try {
      const worker = await Worker.create({
        connection,
        taskQueue: TASK_QUEUES.maintenance,
        workflowBundle: { code: readFileSync(await prebuiltWorkflowBundle(), 'utf8') },
        activities: createRetentionActivities({ db: database.db, config, onBatchDeleted: recordRetentionRowsDeleted }),
        dataConverter: createDataConverter(config),
      });
      const report = await worker.runUntil(
        temporal.client.workflow.execute('retentionWorkflow', { taskQueue: TASK_QUEUES.maintenance, workflowId: 'retention-metrics', args: [{ batchSize: 2 }] }),
      );
      assert.deepEqual(
        (report as { tables: Array<{ table: string; rows: number }> }).tables.map(({ table, rows }) => [table, rows]),
        [['notifications', 7], ['campaign_recipients', 0], ['dead_letters', 3]],
      );

      // Scraped while the connection is open: the runtime (and its endpoint) ends with its last connection.
      const text = await waitFor(async () => {
        const current = await scrape();
        return sample(current, METRIC_NAMES.retentionRowsDeleted, { table: 'dead_letters' }) === 3 ? current : undefined;
      }, { message: 'retention metrics' });
      assert.equal(sample(text, METRIC_NAMES.retentionRowsDeleted, { table: 'notifications' }), 7);
      assert.equal(sample(text, METRIC_NAMES.retentionRowsDeleted, { table: 'campaign_recipients' }), undefined);
      assert.ok(sample(text, 'temporal_workflow_completed', { workflow_type: 'retentionWorkflow' })! >= 1);
      assert.ok(sample(text, 'temporal_activity_execution_latency_count', { activity_type: 'purgeExpired' })! >= 3);
      assert.match(text, /^# HELP notification_jobs_retention_rows_deleted_total Rows deleted by data retention, by table$/m);

      await recordEveryCounter(scrape);
    } finally {
      await connection.close();
    }
  });

});

/** Producers in the campaign and bridge code call these; here each is called directly, then scraped. */
async function recordEveryCounter(scrape: () => Promise<string>): Promise<void> {
  recordSend('email', 'sent', 3);
  recordSend('webhook', 'retried');
  recordSend('email', 'failed');
  recordCampaignRecipients('sent', 3);
  recordCampaignRecipients('failed');
  recordCampaignBatchDuration(42);
  recordBridgeMessage('started');
  recordBridgeMessage('duplicate');
  recordBridgeMessage('retried');
  recordBridgeOutcome('dead-lettered');
  recordBridgeReconnect();
  recordDeadLetter('campaign');
  recordDeadLetter('bridge', 2);
  const text = await waitFor(async () => {
    const current = await scrape();
    // 2 recorded directly, 1 by the dead-lettered bridge outcome.
    return sample(current, METRIC_NAMES.deadLetters, { source: 'bridge' }) === 3 ? current : undefined;
  });
  assert.equal(sample(text, METRIC_NAMES.sends, { channel: 'email', outcome: 'sent' }), 3);
  assert.equal(sample(text, METRIC_NAMES.sends, { channel: 'webhook', outcome: 'retried' }), 1);
  assert.equal(sample(text, METRIC_NAMES.sends, { channel: 'email', outcome: 'failed' }), 1);
  assert.equal(sample(text, METRIC_NAMES.campaignRecipients, { outcome: 'sent' }), 3);
  assert.equal(sample(text, `${METRIC_NAMES.campaignBatchDuration}_count`), 1);
  for (const outcome of ['started', 'duplicate', 'retried', 'dead-lettered']) assert.equal(sample(text, METRIC_NAMES.bridgeMessages, { outcome }), 1);
  assert.equal(sample(text, METRIC_NAMES.bridgeReconnects), 1);
  assert.equal(sample(text, METRIC_NAMES.deadLetters, { source: 'campaign' }), 1);
}
