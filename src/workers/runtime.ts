// Installs the Temporal SDK runtime once per process: its logs go to pino, its metrics to Prometheus.
import { Runtime, type Logger as TemporalLogger } from '@temporalio/worker';
import type { Config } from '../config';
import type { Logger } from '../logger';

type Level = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
const pinoLevel = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

function temporalLoggerFor(logger: Logger): TemporalLogger {
  const log = (level: Level, message: string, meta?: Record<string, unknown>) => logger[pinoLevel[level]](meta ?? {}, message);
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

export function installRuntime(config: Pick<Config, 'metricsAddress'>, logger: Logger): void {
  if (installed) return;
  installed = true;
  Runtime.install({
    logger: temporalLoggerFor(logger.child({ component: 'temporal-sdk' })),
    // Entry points decide the shutdown order (bridge, workers, server) themselves.
    shutdownSignals: [],
    telemetryOptions: {
      logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
      ...(config.metricsAddress ? { metrics: { prometheus: { bindAddress: config.metricsAddress } } } : {}),
    },
  });
}
