// Structured JSON logs (pino). Personal data never goes above debug; the redact list is the safety net.
import pino, { type Logger } from 'pino';
import type { Config } from './config';

export type { Logger };

export function createLogger(config: Pick<Config, 'logLevel' | 'logPretty'>, name = 'notification-jobs'): Logger {
  return pino({
    name,
    level: config.logLevel,
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    redact: {
      paths: ['email', 'address', '*.email', '*.address', 'recipient.address', 'variables', '*.variables'],
      censor: '[redacted]',
    },
  });
}
