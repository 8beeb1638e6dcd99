// `npm start` as a newcomer runs it: no Temporal server yet, so it starts the dev server with its Web UI,
// then everything else; an event published to RabbitMQ is delivered; SIGTERM stops it all cleanly; the
// history is still there after a restart.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { sql } from 'kysely';
import { isTemporalReachable } from '../../src/temporal/dev-server';
import { SCHEDULE_IDS } from '../../src/temporal/schedules';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { freePort } from '../support/ports';
import { createTestVhost, type TestVhost } from '../support/rabbitmq';
import { waitFor } from '../support/wait';
import { prebuiltWorkflowBundle, spawnService, type ServiceProcess } from '../support/worker-process';

describe('npm start', () => {
  let database: TestDatabase;
  let vhost: TestVhost;
  let dataDir: string;
  let env: Record<string, string>;
  let temporalAddress: string;
  let service: ServiceProcess | undefined;

  before(async () => {
    [database, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
    dataDir = mkdtempSync(path.join(tmpdir(), 'notification-jobs-start-'));
    temporalAddress = `127.0.0.1:${await freePort()}`;
    env = {
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_UI_PORT: String(await freePort()),
      TEMPORAL_DATA_DIR: dataDir,
      DATABASE_URL: database.url,
      AMQP_URL: vhost.url,
      WORKFLOW_BUNDLE_PATH: await prebuiltWorkflowBundle(),
    };
  });

  after(async () => {
    await service?.kill('SIGKILL');
    await vhost?.delete();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const start = () => spawnService('start', env, /"msg":"bridge started"/);

  it('starts the dev server with its Web UI, the worker and the bridge, and delivers an event', async () => {
    assert.equal(await isTemporalReachable(temporalAddress), false, 'no Temporal server before npm start');
    service = await start();

    const announced = service.output.find((line) => line.includes('Web UI at'));
    const uiUrl = /Web UI at (http:\/\/\S+?)"/.exec(announced ?? '')?.[1];
    assert.equal(uiUrl, `http://127.0.0.1:${env.TEMPORAL_UI_PORT}`);
    const page = await waitFor(async () => (await fetch(uiUrl!)).ok, { message: 'the Web UI' });
    assert.equal(page, true);

    const client = new Client({ connection: await Connection.connect({ address: temporalAddress }) });
    try {
      const schedules: string[] = [];
      for await (const schedule of client.schedule.list()) schedules.push(schedule.scheduleId);
      assert.deepEqual(schedules.sort(), [SCHEDULE_IDS.campaignDispatcher, SCHEDULE_IDS.retention].sort());

      await vhost.publish('payment.completed', { eventId: 'start-1', userId: 'u1', email: 'buyer@example.com', orderId: 'o1', amount: 12.5, currency: 'EUR' });
      const status = await waitFor(
        async () => (await sql<{ status: string }>`select status from notifications where dedupe_key = 'payment.completed:start-1'`.execute(database.db)).rows[0]?.status === 'sent',
        { message: 'the notification to be sent' },
      );
      assert.equal(status, true);
    } finally {
      await client.connection.close();
    }
  });

  it('stops everything on SIGTERM, with exit code 0', async () => {
    const code = await service!.kill('SIGTERM');
    service = undefined;
    assert.equal(code, 0);
    assert.equal(await isTemporalReachable(temporalAddress), false, 'the dev server stopped too');
  });

  it('keeps the history in its SQLite file across a restart', async () => {
    service = await start();
    const client = new Client({ connection: await Connection.connect({ address: temporalAddress }) });
    try {
      const description = await client.workflow.getHandle('event-payment.completed-start-1').describe();
      assert.equal(description.status.name, 'COMPLETED');
    } finally {
      await client.connection.close();
    }
    assert.equal(await service.kill('SIGTERM'), 0);
    service = undefined;
  });
});
