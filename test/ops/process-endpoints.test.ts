// The service's own counters on the endpoints of the real processes: the bridge (BRIDGE_METRICS_ADDRESS,
// BRIDGE_HEALTH_ADDRESS) and the worker (METRICS_ADDRESS), after real work.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { METRIC_NAMES } from '../../src/ops/metrics';
import { TASK_QUEUES } from '../../src/temporal/task-queues';
import { paymentCompleted, startBridgeStack, waitForDeliveries, type BridgeStack } from '../bridge/fixtures';
import { freePort } from '../support/ports';
import { waitFor } from '../support/wait';
import { prebuiltWorkflowBundle, spawnService, type ServiceProcess } from '../support/worker-process';

/** Until the entry points and producers call src/ops (see the operations notes), these report as TODO. */

function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? ([^ ]+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((pair) => [pair[1], pair[2]]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) total += Number(match[3]);
  }
  return total;
}

describe('metrics and health of the real processes', () => {
  let stack: BridgeStack;
  let bridge: ServiceProcess | undefined;
  let worker: ServiceProcess | undefined;

  before(async () => {
    stack = await startBridgeStack({ withoutBridge: true });
  });
  after(async () => {
    await bridge?.kill('SIGKILL');
    await worker?.kill('SIGKILL');
    await stack?.stop();
  });

  it('bridge: counts messages by outcome and reconnects, and answers /readyz', { timeout: 180_000 }, async () => {
    const metricsAddress = `127.0.0.1:${await freePort()}`;
    const healthAddress = `127.0.0.1:${await freePort()}`;
    bridge = await spawnService(
      'bridge',
      {
        TEMPORAL_ADDRESS: stack.temporal.address,
        AMQP_URL: stack.vhost.url,
        DATABASE_URL: stack.database.url,
        BRIDGE_METRICS_ADDRESS: metricsAddress,
        BRIDGE_HEALTH_ADDRESS: healthAddress,
      },
      /"msg":"bridge started"/,
    );
    const ready = await fetch(`http://${healthAddress}/readyz`);
    assert.equal(ready.status, 200);

    const event = paymentCompleted(randomUUID());
    await stack.vhost.publish('payment.completed', event);
    await stack.vhost.publish('payment.completed', event);
    await stack.vhost.publish('payment.completed', Buffer.from('{not json'));
    await waitForDeliveries(stack.smtp, 1);
    await stack.vhost.closeAllConnections();
    const scrape = async () => (await fetch(`http://${metricsAddress}/metrics`)).text();
    const text = await waitFor(async () => {
      const current = await scrape();
      return sample(current, METRIC_NAMES.bridgeReconnects) >= 1 ? current : undefined;
    }, { timeoutMs: 120_000, message: 'a reconnect to be counted' });
    assert.equal(sample(text, METRIC_NAMES.bridgeMessages, { outcome: 'started' }), 1);
    assert.ok(sample(text, METRIC_NAMES.bridgeMessages, { outcome: 'duplicate' }) >= 1);
    assert.equal(sample(text, METRIC_NAMES.bridgeMessages, { outcome: 'dead-lettered' }), 1);
    assert.equal(sample(text, METRIC_NAMES.deadLetters, { source: 'bridge' }), 1);
  });

  it('worker: counts retention rows deleted by table', { timeout: 180_000 }, async () => {
    await sql`insert into dead_letters (source, reference, payload, error, attempts, created_at)
      select 'bridge', 'old-' || n, '{}'::jsonb, 'x', 1, now() - interval '400 days' from generate_series(1, 4) n`.execute(stack.database.db);
    const metricsAddress = `127.0.0.1:${await freePort()}`;
    worker = await spawnService('worker', {
      TEMPORAL_ADDRESS: stack.temporal.address,
      DATABASE_URL: stack.database.url,
      AMQP_URL: stack.vhost.url,
      WORKFLOW_BUNDLE_PATH: await prebuiltWorkflowBundle(),
      METRICS_ADDRESS: metricsAddress,
    });
    await stack.temporal.client.workflow.execute('retentionWorkflow', { taskQueue: TASK_QUEUES.maintenance, workflowId: 'retention-endpoints', args: [{}] });
    const text = await (await fetch(`http://${metricsAddress}/metrics`)).text();
    assert.equal(sample(text, METRIC_NAMES.retentionRowsDeleted, { table: 'dead_letters' }), 4);
  });
});
