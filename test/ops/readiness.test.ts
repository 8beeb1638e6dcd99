// /healthz and /readyz against real servers reached through proxies that can be made to hang: the
// answer comes within its bound whatever hangs, names what is wrong, and turns ready again afterwards.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import pino from 'pino';
import type { Config } from '../../src/config';
import { openDatabase } from '../../src/db/connect';
import type { Database } from '../../src/db/schema';
import { postgresCheck, runChecks, type Readiness } from '../../src/ops/readiness';
import { startWorkerOperations, type RunningOperations } from '../../src/ops/service';
import type { Statistics } from '../../src/ops/stats';
import { testConfig } from '../support/config';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { freePort } from '../support/ports';
import { startTestTemporal, type TestTemporal } from '../support/temporal';
import { waitFor } from '../support/wait';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy';

const BOUND_MS = 1_000;
/** Scheduling slack on a busy 2-core machine; the point is "about the bound", not "whenever the dependency recovers". */
const SLACK_MS = 1_500;
const AMQP_BROKER = process.env.TEST_AMQP_BROKER ?? 'amqp://guest:guest@127.0.0.1:5672';

function viaProxy(url: string, proxy: TcpProxy): string {
  const proxied = new URL(url);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(proxy.port);
  return proxied.toString();
}

async function timed<T>(request: Promise<T>): Promise<{ value: T; milliseconds: number }> {
  const started = performance.now();
  const value = await request;
  return { value, milliseconds: performance.now() - started };
}

async function readyz(url: string): Promise<{ status: number; body: Readiness }> {
  const response = await fetch(`${url}/readyz`);
  return { status: response.status, body: (await response.json()) as Readiness };
}

describe('health and readiness', () => {
  let temporal: TestTemporal;
  let database: TestDatabase;
  let postgresProxy: TcpProxy;
  let proxiedDb: Kysely<Database>;
  let config: Config;
  let operations: RunningOperations;
  let url: string;

  before(async () => {
    [temporal, database] = await Promise.all([startTestTemporal(), createTestDatabase()]);
    const postgres = new URL(database.url);
    postgresProxy = await startTcpProxy({ host: postgres.hostname, port: Number(postgres.port || 5432) });
    config = testConfig({
      TEMPORAL_ADDRESS: temporal.address,
      DATABASE_URL: viaProxy(database.url, postgresProxy),
      AMQP_URL: AMQP_BROKER,
      READINESS_TIMEOUT_MS: String(BOUND_MS),
      STATS_ADDRESS: `127.0.0.1:${await freePort()}`,
    });
    // The statistics read through the same hanging proxy as readiness does.
    proxiedDb = openDatabase(config.databaseUrl, { maxConnections: 3 });
    operations = await startWorkerOperations({ config, logger: pino({ level: 'silent' }), db: proxiedDb });
    url = operations.server!.url;
  });

  after(async () => {
    await operations?.close();
    await postgresProxy?.close();
    await proxiedDb?.destroy().catch(() => undefined);
    await Promise.allSettled([temporal?.stop(), database?.drop()]);
  });

  it('is ready when Temporal, PostgreSQL and RabbitMQ answer', async () => {
    const { status, body } = await readyz(url);
    assert.equal(status, 200, JSON.stringify(body));
    assert.deepEqual(
      Object.fromEntries(Object.entries(body.checks).map(([name, check]) => [name, check.ok])),
      { temporal: true, postgres: true, rabbitmq: true },
    );
  });

  it('fails /readyz within its bound while PostgreSQL hangs, stays alive, and recovers', async () => {
    postgresProxy.setMode('black-hole');
    for (let round = 0; round < 2; round++) {
      const { value, milliseconds } = await timed(readyz(url));
      assert.equal(value.status, 503);
      assert.ok(milliseconds < BOUND_MS + SLACK_MS, `answered after ${Math.round(milliseconds)} ms`);
      assert.equal(value.body.checks.postgres!.ok, false);
      assert.match(value.body.checks.postgres!.error!, /did not answer within 1000 ms|timeout/i);
      assert.equal(value.body.checks.temporal!.ok, true);
      assert.equal(value.body.checks.rabbitmq!.ok, true);
    }
    const health = await timed(fetch(`${url}/healthz`));
    assert.equal(health.value.status, 200);
    assert.ok(health.milliseconds < 500);

    // The statistics API is bounded too: PostgreSQL's sections report the outage, Temporal's are there.
    const stats = await timed(fetch(`${url}/stats`).then((response) => response.json() as Promise<Statistics>));
    assert.ok(stats.milliseconds < 5_000 + SLACK_MS, `statistics took ${Math.round(stats.milliseconds)} ms`);
    assert.equal(stats.value.campaigns, null);
    assert.match(stats.value.errors.campaigns!, /^PostgreSQL/);
    assert.ok(stats.value.taskQueues);

    postgresProxy.setMode('forward');
    await waitFor(async () => (await readyz(url)).status === 200, { message: '/readyz to recover' });
    await waitFor(async () => ((await (await fetch(`${url}/stats`)).json()) as Statistics).campaigns !== null, { message: 'statistics to read PostgreSQL again' });
  });

  it('says at once when nothing listens where PostgreSQL should be', async () => {
    const closedPort = await freePort();
    const { value, milliseconds } = await timed(runChecks({ postgres: postgresCheck(`postgres://postgres@127.0.0.1:${closedPort}/x`, BOUND_MS) }, BOUND_MS));
    assert.equal(value.ready, false);
    assert.match(value.checks.postgres!.error!, /ECONNREFUSED/);
    assert.ok(milliseconds < BOUND_MS);
  });

  it('still answers within the bound when all three dependencies hang at once', async () => {
    const [temporalHost, temporalPort] = temporal.address.split(':') as [string, string];
    const proxies = await Promise.all([
      startTcpProxy({ host: temporalHost, port: Number(temporalPort) }, 'black-hole'),
      startTcpProxy({ host: '127.0.0.1', port: Number(new URL(AMQP_BROKER).port || 5672) }, 'black-hole'),
    ]);
    postgresProxy.setMode('black-hole');
    const hanging = testConfig({
      TEMPORAL_ADDRESS: `127.0.0.1:${proxies[0].port}`,
      DATABASE_URL: config.databaseUrl,
      AMQP_URL: viaProxy(AMQP_BROKER, proxies[1]),
      READINESS_TIMEOUT_MS: String(BOUND_MS),
      STATS_ADDRESS: `127.0.0.1:${await freePort()}`,
    });
    const stuck = await startWorkerOperations({ config: hanging, logger: pino({ level: 'silent' }), db: proxiedDb });
    try {
      const { value, milliseconds } = await timed(readyz(stuck.server!.url));
      assert.equal(value.status, 503);
      assert.ok(milliseconds < BOUND_MS + SLACK_MS, `answered after ${Math.round(milliseconds)} ms`);
      assert.deepEqual(
        Object.fromEntries(Object.entries(value.body.checks).map(([name, check]) => [name, check.ok])),
        { temporal: false, postgres: false, rabbitmq: false },
      );
      assert.ok(!JSON.stringify(value.body).includes('guest:guest'), 'no credentials in the answer');
    } finally {
      postgresProxy.setMode('forward');
      await stuck.close();
      await Promise.all(proxies.map((proxy) => proxy.close()));
    }
  });
});
