// What an entry point starts for operators besides its real work: the statistics and health endpoint,
// and a warning when payloads would reach Temporal unencrypted.
import type { Kysely } from 'kysely';
import type { Config } from '../config';
import type { Database } from '../db/schema';
import type { Logger } from '../logger';
import { operationsClient } from '../temporal/connection';
import type { RunningHttpServer } from './http';
import { startOperationsServer } from './operations-server';
import { postgresCheck, rabbitmqCheck, runChecks, temporalCheck } from './readiness';
import { collectStatistics } from './stats';

export interface RunningOperations {
  /** The statistics / health endpoint, when its address is configured. */
  server?: RunningHttpServer;
  close(): Promise<void>;
}

function warnIfUnencrypted(config: Config, logger: Logger): void {
  if (!config.payloadEncryption) {
    logger.warn('payload encryption is off: workflow inputs and results reach Temporal in plain text; set PAYLOAD_ENCRYPTION_KEY_ID and PAYLOAD_ENCRYPTION_KEY');
  }
}

/** The worker's: /healthz, /readyz (Temporal, PostgreSQL, RabbitMQ) and /stats on STATS_ADDRESS. */
export async function startWorkerOperations({ config, logger, db }: { config: Config; logger: Logger; db: Kysely<Database> }): Promise<RunningOperations> {
  warnIfUnencrypted(config, logger);
  if (!config.statsAddress) return { close: async () => undefined };
  const timeoutMs = config.readinessTimeoutMs;
  const client = operationsClient(config);
  const checks = {
    temporal: temporalCheck(client, timeoutMs),
    postgres: postgresCheck(config.databaseUrl, timeoutMs),
    rabbitmq: rabbitmqCheck(config, timeoutMs),
  };
  const server = await startOperationsServer({
    address: config.statsAddress,
    addressVariable: 'STATS_ADDRESS',
    logger,
    readiness: () => runChecks(checks, timeoutMs),
    statistics: () => collectStatistics({ client, namespace: config.temporal.namespace, db, amqp: config, timeoutMs: Math.max(timeoutMs, 5_000) }),
  });
  logger.info({ statsAddress: server.url }, `statistics at ${server.url}/stats, health at ${server.url}/healthz and /readyz`);
  return {
    server,
    async close() {
      await server.close();
      await client.connection.close().catch(() => undefined);
    },
  };
}

/** A bridge running on its own: /healthz and /readyz (Temporal, RabbitMQ) on BRIDGE_HEALTH_ADDRESS. */
export async function startBridgeOperations({ config, logger }: { config: Config; logger: Logger }): Promise<RunningOperations> {
  warnIfUnencrypted(config, logger);
  if (!config.bridgeHealthAddress) return { close: async () => undefined };
  const timeoutMs = config.readinessTimeoutMs;
  const client = operationsClient(config);
  const checks = { temporal: temporalCheck(client, timeoutMs), rabbitmq: rabbitmqCheck(config, timeoutMs) };
  const server = await startOperationsServer({
    address: config.bridgeHealthAddress,
    addressVariable: 'BRIDGE_HEALTH_ADDRESS',
    logger,
    readiness: () => runChecks(checks, timeoutMs),
  });
  logger.info({ healthAddress: server.url }, `health at ${server.url}/healthz and /readyz`);
  return {
    server,
    async close() {
      await server.close();
      await client.connection.close().catch(() => undefined);
    },
  };
}
