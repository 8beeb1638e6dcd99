// Readiness: can this process reach Temporal, PostgreSQL and RabbitMQ right now? Every check is bounded,
// so a dependency that accepts connections and never answers makes /readyz say so in time, not hang.
import type { Client } from '@temporalio/client';
import pg from 'pg';
import { connectAmqp } from '../bridge/connection';
import type { Config } from '../config';
import { scrubCredentials } from './personal-data';

export type Check = () => Promise<void>;

export interface CheckResult {
  ok: boolean;
  milliseconds: number;
  error?: string;
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, CheckResult>;
}

export class TimeoutError extends Error {
  override name = 'TimeoutError';
}

/** Settles within `milliseconds` whatever `work` does; `work` keeps running and is expected to clean up after itself. */
export async function withTimeout<T>(work: Promise<T>, milliseconds: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} did not answer within ${milliseconds} ms`)), milliseconds);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export async function runChecks(checks: Record<string, Check>, timeoutMs: number): Promise<Readiness> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]): Promise<[string, CheckResult]> => {
      const started = performance.now();
      try {
        await withTimeout(check(), timeoutMs, name);
        return [name, { ok: true, milliseconds: Math.round(performance.now() - started) }];
      } catch (error) {
        const message = scrubCredentials(error instanceof Error ? error.message : String(error));
        return [name, { ok: false, milliseconds: Math.round(performance.now() - started), error: message }];
      }
    }),
  );
  return { ready: entries.every(([, result]) => result.ok), checks: Object.fromEntries(entries) };
}

export function temporalCheck(client: Client, timeoutMs: number): Check {
  return async () => {
    await client.connection.withDeadline(Date.now() + timeoutMs, () => client.workflowService.getSystemInfo({}));
  };
}

/** A fresh connection each time: the service's pool may hide an outage behind connections it already has. */
export function postgresCheck(databaseUrl: string, timeoutMs: number): Check {
  return async () => {
    const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
    // A late error (the server went away after the timeout) must not become an unhandled 'error' event.
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('select 1');
    } finally {
      void client.end().catch(() => undefined);
    }
  };
}

export function rabbitmqCheck(config: Pick<Config, 'amqpUrl' | 'bridge'>, timeoutMs: number): Check {
  return async () => {
    const connecting = connectAmqp(config, { connectionName: 'notification-jobs readiness', timeoutMs });
    // Closed even when it opens after the check has given up.
    connecting
      .then((connection) => {
        connection.on('error', () => undefined);
        return connection.close();
      })
      .catch(() => undefined);
    await connecting;
  };
}
