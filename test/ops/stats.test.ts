// The statistics API and CLI against real servers: a backlog builds while no worker polls and drains once
// the real worker process runs; campaigns, dead letters and RabbitMQ depths come from their sources.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import amqp from 'amqplib';
import pino from 'pino';
import { assertTopology, TOPOLOGY } from '../../src/bridge/topology';
import type { Config } from '../../src/config';
import { startWorkerOperations, type RunningOperations } from '../../src/ops/service';
import type { Statistics, TaskQueueStatistics } from '../../src/ops/stats';
import { PROJECT_ROOT } from '../../src/temporal/cli-binary';
import { TASK_QUEUES } from '../../src/temporal/task-queues';
import { testConfig } from '../support/config';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { freePort } from '../support/ports';
import { createTestVhost, type TestVhost } from '../support/rabbitmq';
import { startTestTemporal, type TestTemporal } from '../support/temporal';
import { waitFor } from '../support/wait';
import { prebuiltWorkflowBundle, spawnService, type ServiceProcess } from '../support/worker-process';

/** The CLI as a child process; asynchronous, because the statistics server it reads lives in this process. */
async function statsCli(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(PROJECT_ROOT, 'src', 'cli', 'stats.ts'), ...args],
      { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 },
      (error, stdout, stderr) => resolve({ status: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('statistics API and CLI', () => {
  let temporal: TestTemporal;
  let database: TestDatabase;
  let vhost: TestVhost;
  let config: Config;
  let operations: RunningOperations;
  let statsUrl: string;
  let worker: ServiceProcess | undefined;
  const campaignId = randomUUID();

  const workerEnv = async () => ({
    TEMPORAL_ADDRESS: temporal.address,
    DATABASE_URL: database.url,
    AMQP_URL: vhost.url,
    WORKFLOW_BUNDLE_PATH: await prebuiltWorkflowBundle(),
    LOG_LEVEL: 'info',
  });

  const stats = async (): Promise<Statistics> => {
    const response = await fetch(`${statsUrl}/stats`);
    assert.equal(response.status, 200);
    return (await response.json()) as Statistics;
  };
  const maintenanceQueue = (current: Statistics): TaskQueueStatistics => current.taskQueues!.find((queue) => queue.name === TASK_QUEUES.maintenance)!;

  before(async () => {
    [temporal, database, vhost] = await Promise.all([startTestTemporal(), createTestDatabase(), createTestVhost()]);
    config = testConfig({
      TEMPORAL_ADDRESS: temporal.address,
      DATABASE_URL: database.url,
      AMQP_URL: vhost.url,
      STATS_ADDRESS: `127.0.0.1:${await freePort()}`,
    });
    // The statistics endpoint on its own, so it keeps answering while the worker is down.
    operations = await startWorkerOperations({ config, logger: pino({ level: 'silent' }), db: database.db });
    statsUrl = operations.server!.url;

    // A campaign half-way through, one finished (not listed), dead letters from two sources.
    await database.db
      .insertInto('notification_campaigns')
      .values([
        { id: campaignId, name: 'Spring sale', channel: 'email', body: 'Hi {{name}}', status: 'processing', started_at: new Date(), rate_per_second: 50 },
        { id: randomUUID(), name: 'Old news', channel: 'log', body: 'x', status: 'completed', completed_at: new Date() },
      ])
      .execute();
    await database.db
      .insertInto('campaign_recipients')
      .values(
        Array.from({ length: 10 }, (_, index) => ({
          campaign_id: campaignId,
          recipient_id: `r${index}`,
          address: `person${index}@example.org`,
          status: index < 6 ? ('sent' as const) : index === 6 ? ('failed' as const) : ('pending' as const),
        })),
      )
      .execute();
    await database.db
      .insertInto('dead_letters')
      .values([
        { source: 'campaign', reference: `${campaignId}/r6`, payload: '{}', error: 'SMTP 550', attempts: 5 },
        { source: 'bridge', reference: 'm-1', payload: '{}', error: 'schema', attempts: 1, redriven_at: new Date() },
        { source: 'bridge', reference: 'm-2', payload: '{}', error: 'schema', attempts: 1 },
      ])
      .execute();

    // The bridge's queues with messages nobody consumes.
    const connection = await amqp.connect(vhost.url);
    try {
      const channel = await connection.createConfirmChannel();
      await assertTopology(channel, config.bridge);
      for (let index = 0; index < 4; index++) channel.publish(TOPOLOGY.eventsExchange, 'payment.completed', Buffer.from('{}'), { persistent: true });
      channel.sendToQueue(TOPOLOGY.deadLetterQueue, Buffer.from('{}'), { persistent: true });
      await channel.waitForConfirms();
    } finally {
      await connection.close();
    }
  });

  after(async () => {
    await worker?.kill('SIGKILL');
    await operations?.close();
    await Promise.allSettled([temporal?.stop(), database?.drop(), vhost?.delete()]);
  });

  it('serves /healthz and /readyz from the real worker process, and Prometheus metrics from its runtime', async () => {
    const metricsAddress = `127.0.0.1:${await freePort()}`;
    const ownStats = `127.0.0.1:${await freePort()}`;
    worker = await spawnService('worker', { ...(await workerEnv()), METRICS_ADDRESS: metricsAddress, STATS_ADDRESS: ownStats });
    const health = await fetch(`http://${ownStats}/healthz`);
    assert.equal(health.status, 200);
    const ready = await fetch(`http://${ownStats}/readyz`);
    const readiness = (await ready.json()) as { status: string; checks: Record<string, { ok: boolean }> };
    assert.equal(ready.status, 200, JSON.stringify(readiness));
    assert.deepEqual(Object.keys(readiness.checks).sort(), ['postgres', 'rabbitmq', 'temporal']);
    const metrics = await waitFor(
      async () => {
        const text = await (await fetch(`http://${metricsAddress}/metrics`)).text();
        return /^temporal_worker_task_slots_available\{/m.test(text) ? text : undefined;
      },
      { message: 'SDK metrics on METRICS_ADDRESS' },
    );
    assert.match(metrics, /^temporal_num_pollers\{/m);
    // Workers are polling every task queue.
    const polled = await waitFor(async () => {
      const current = await stats();
      return current.taskQueues!.every((queue) => queue.workflowTasks.pollers.length > 0 && queue.activityTasks.pollers.length > 0) ? current : undefined;
    });
    assert.equal(polled.taskQueues!.length, Object.keys(TASK_QUEUES).length);
    assert.ok(worker.output.every((line) => !line.includes('person0@example.org')));
    assert.equal(await worker.kill('SIGTERM'), 0);
    worker = undefined;
  });

  it('reports a backlog while no worker polls, and an empty one after the worker drains it', async () => {
    const ids = Array.from({ length: 3 }, () => `retention-stats-${randomUUID()}`);
    for (const workflowId of ids) {
      await temporal.client.workflow.start('retentionWorkflow', { taskQueue: TASK_QUEUES.maintenance, workflowId, args: [{ dryRun: true }] });
    }
    const backlogged = await waitFor(async () => {
      const current = await stats();
      return maintenanceQueue(current).workflowTasks.backlog >= ids.length ? current : undefined;
    }, { message: 'a workflow task backlog of 3 on the maintenance queue' });
    assert.ok(backlogged.workflows!.some((row) => row.type === 'retentionWorkflow' && row.status === 'Running' && row.count >= ids.length));

    worker = await spawnService('worker', await workerEnv());
    await Promise.all(ids.map((workflowId) => temporal.client.workflow.getHandle(workflowId).result()));
    const drained = await waitFor(async () => {
      const current = await stats();
      const queue = maintenanceQueue(current);
      return queue.workflowTasks.backlog === 0 && queue.activityTasks.backlog === 0 ? current : undefined;
    }, { message: 'the maintenance backlog to drain' });
    assert.ok(drained.workflows!.some((row) => row.type === 'retentionWorkflow' && row.status === 'Completed' && row.count >= ids.length));
    assert.ok(maintenanceQueue(drained).workflowTasks.pollers.length > 0);
  });

  it('lists running campaigns with their progress, dead letters by source and RabbitMQ depths', async () => {
    const current = await stats();
    assert.deepEqual(current.errors, {});
    assert.equal(current.campaigns!.length, 1);
    assert.deepEqual(
      { ...current.campaigns![0]!, startedAt: undefined },
      { id: campaignId, name: 'Spring sale', status: 'processing', channel: 'email', total: 10, sent: 6, failed: 1, pending: 3, percentDone: 70, ratePerSecond: 50, startedAt: undefined },
    );
    assert.deepEqual(current.deadLetters, [
      { source: 'campaign', total: 1, waiting: 1 },
      { source: 'notification', total: 0, waiting: 0 },
      { source: 'bridge', total: 2, waiting: 1 },
    ]);
    assert.deepEqual(
      current.queues!.map(({ name, role, messages }) => ({ name, role, messages })),
      [
        { name: TOPOLOGY.workQueue, role: 'work', messages: 4 },
        { name: TOPOLOGY.retryQueue, role: 'retry', messages: 0 },
        { name: TOPOLOGY.deadLetterQueue, role: 'dead-letter', messages: 1 },
      ],
    );
    assert.ok(!JSON.stringify(current).includes('@example.org'), 'no recipient address in the statistics');
  });

  it('prints the same statistics as tables, from the API or gathered directly', async () => {
    const fromApi = await statsCli(['--url', statsUrl]);
    assert.equal(fromApi.status, 0, fromApi.stderr);
    const direct = await statsCli([], { TEMPORAL_ADDRESS: temporal.address, DATABASE_URL: database.url, AMQP_URL: vhost.url, LOG_LEVEL: 'warn' });
    assert.equal(direct.status, 0, direct.stderr);
    for (const output of [fromApi.stdout, direct.stdout]) {
      assert.match(output, /^Task queues\ntask queue\s+tasks\s+backlog\s+oldest\s+pollers/m);
      assert.match(output, new RegExp(`^${TASK_QUEUES.maintenance.replaceAll('.', '\\.')}\\s+workflow\\s+0\\s`, 'm'));
      assert.match(output, /^retentionWorkflow\s+Completed\s+\d+$/m);
      assert.match(output, new RegExp(`^${campaignId}\\s+Spring sale\\s+processing\\s+70%\\s+6\\s+1\\s+3\\s+10\\s+50$`, 'm'));
      assert.match(output, /^bridge\s+2\s+1$/m);
      assert.match(output, /^notification-service\.events\s+work\s+4\s+0$/m);
    }
  });

  it('reports an unreachable source in its section and still prints the others, exiting 2', async () => {
    const result = await statsCli(['--timeout', '1500'], { TEMPORAL_ADDRESS: temporal.address, DATABASE_URL: database.url, AMQP_URL: 'amqp://guest:guest@127.0.0.1:1/' });
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stdout, /^RabbitMQ queues\n {2}unavailable: RabbitMQ: /m);
    assert.match(result.stdout, /^campaign\s+1\s+1$/m);
    assert.ok(!result.stdout.includes('guest:guest'));
  });
});
