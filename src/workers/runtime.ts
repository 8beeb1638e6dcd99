// Installs the Temporal SDK runtime once per process: its logs go to pino, its metrics (and ours, see
// src/ops/metrics.ts) to one Prometheus endpoint.
import { Runtime, type Logger as TemporalLogger } from '@temporalio/worker';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { scrubAddresses } from '../ops/personal-data';

type Level = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
const pinoLevel = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

/**
 * The SDK logs a failed activity at WARN with its error, and a provider's error text can quote the
 * recipient ("550 <address>: no such user"). Above debug, addresses are masked before pino sees them.
 */
function withoutAddresses(meta: Record<string, unknown>): Record<string, unknown> {
  const cleaned: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(meta)) {
    if (typeof value === 'string') cleaned[key] = scrubAddresses(value);
    else if (value instanceof Error) cleaned[key] = { type: value.name, message: scrubAddresses(value.message), stack: scrubAddresses(value.stack ?? '') };
    else cleaned[key] = value;
  }
  return cleaned;
}

function temporalLoggerFor(logger: Logger): TemporalLogger {
  const log = (level: Level, message: string, meta?: Record<string, unknown>) => {
    if (level === 'TRACE' || level === 'DEBUG') return logger[pinoLevel[level]](meta ?? {}, message);
    logger[pinoLevel[level]](withoutAddresses(meta ?? {}), scrubAddresses(message));
  };
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}

let installed = false;

/** `worker` serves metrics on METRICS_ADDRESS, a bridge running on its own on BRIDGE_METRICS_ADDRESS. */
export type ProcessRole = 'worker' | 'bridge';

export function installRuntime(
  config: Pick<Config, 'metricsAddress'> & Partial<Pick<Config, 'bridgeMetricsAddress'>>,
  logger: Logger,
  role: ProcessRole = 'worker',
): void {
  if (installed) return;
  installed = true;
  const metricsAddress = role === 'bridge' ? config.bridgeMetricsAddress : config.metricsAddress;
  try {
    Runtime.install({
      logger: temporalLoggerFor(logger.child({ component: 'temporal-sdk' })),
      // Entry points decide the shutdown order (bridge, workers, server) themselves.
      shutdownSignals: [],
      telemetryOptions: {
        logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
        ...(metricsAddress ? { metrics: { prometheus: { bindAddress: metricsAddress } } } : {}),
      },
    });
  } catch (error) {
    const variable = role === 'bridge' ? 'BRIDGE_METRICS_ADDRESS' : 'METRICS_ADDRESS';
    throw new Error(`Could not start the Temporal SDK runtime${metricsAddress ? ` with metrics on ${variable}=${metricsAddress}` : ''}: ${(error as Error).message}`);
  }
  if (metricsAddress) logger.info({ metricsAddress, role }, `Prometheus metrics at http://${metricsAddress}/metrics`);
}

/**
 * Ends the runtime of a process that runs no worker (a bridge on its own): its log forwarding would
 * otherwise keep the process alive after everything else has closed. Workers end theirs by themselves.
 */
export async function shutdownRuntime(): Promise<void> {
  await Runtime._instance?.shutdown();
}
