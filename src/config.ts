// The one place environment variables are read and validated. Everything else receives a Config.
import { z } from 'zod';

const positiveInt = z.coerce.number().int('must be a whole number').positive('must be greater than 0');
const nonNegativeInt = z.coerce.number().int('must be a whole number').nonnegative('must be 0 or more');

function urlWithProtocols(...protocols: string[]) {
  return z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
  );
}

const hostPort = z
  .string()
  .regex(/^[^\s:/]+:\d{1,5}$/, 'must be host:port, for example 127.0.0.1:7233');

const timeZone = z.string().refine(
  (zone) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be an IANA time zone such as UTC or Europe/Paris' },
);

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const logLevel = z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], {
  message: 'must be one of trace, debug, info, warn, error, fatal, silent',
});

/** Every environment variable the service reads, with its default. Names are the public contract. */
const environmentSchema = z.object({
  // Temporal
  TEMPORAL_ADDRESS: hostPort.default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_CLI_PATH: z.string().optional(),
  TEMPORAL_UI_PORT: positiveInt.max(65535).default(8233),
  TEMPORAL_DATA_DIR: z.string().default('.data'),
  WORKFLOW_BUNDLE_PATH: z.string().optional(),

  // Storage and broker
  DATABASE_URL: urlWithProtocols('postgres:', 'postgresql:').default(
    'postgres://postgres@127.0.0.1:5432/notifications',
  ),
  AMQP_URL: urlWithProtocols('amqp:', 'amqps:').default('amqp://guest:guest@127.0.0.1:5672'),

  // Delivery
  SMTP_URL: urlWithProtocols('smtp:', 'smtps:').optional(),
  MAIL_FROM: z.string().email('must be an email address').default('notifications@localhost'),
  WEBHOOK_SIGNING_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  WEBHOOK_TIMEOUT_MS: positiveInt.default(10_000),

  // Data retention
  RETENTION_TIMEZONE: timeZone.default('UTC'),
  RETENTION_BATCH_SIZE: positiveInt.max(100_000).default(5_000),
  RETENTION_NOTIFICATIONS_DAYS: positiveInt.default(90),
  RETENTION_CAMPAIGN_RECIPIENTS_DAYS: positiveInt.default(180),
  RETENTION_DEAD_LETTERS_DAYS: positiveInt.default(30),
  RETENTION_CATCHUP_WINDOW: z.string().regex(/^\d+(s|m|h|d)$/, 'must be a duration like 30m, 6h or 1d').default('6h'),

  // Campaigns
  CAMPAIGN_BATCH_SIZE: positiveInt.max(10_000).default(500),
  CAMPAIGN_SEND_CONCURRENCY: positiveInt.max(1_000).default(20),
  CAMPAIGN_MAX_ATTEMPTS: positiveInt.max(100).default(5),
  CAMPAIGN_DISPATCH_LIMIT: positiveInt.max(1_000).default(50),

  // Bridge
  BRIDGE_PREFETCH: positiveInt.max(10_000).default(20),
  BRIDGE_MESSAGE_TTL_MS: nonNegativeInt.default(7 * 24 * 3600 * 1000),
  BRIDGE_RETRY_DELAY_MS: positiveInt.default(5_000),
  BRIDGE_MAX_ATTEMPTS: positiveInt.max(1_000).default(20),
  BRIDGE_SHUTDOWN_TIMEOUT_MS: positiveInt.default(10_000),

  // Operations
  LOG_LEVEL: logLevel.default('info'),
  LOG_PRETTY: booleanFlag.default(false),
  WORKER_SHUTDOWN_GRACE_MS: nonNegativeInt.default(30_000),
  METRICS_ADDRESS: hostPort.optional(),
});

export type Environment = z.infer<typeof environmentSchema>;

function toConfig(env: Environment) {
  return {
    temporal: {
      address: env.TEMPORAL_ADDRESS,
      namespace: env.TEMPORAL_NAMESPACE,
      cliPath: env.TEMPORAL_CLI_PATH,
      uiPort: env.TEMPORAL_UI_PORT,
      dataDir: env.TEMPORAL_DATA_DIR,
      workflowBundlePath: env.WORKFLOW_BUNDLE_PATH,
    },
    databaseUrl: env.DATABASE_URL,
    amqpUrl: env.AMQP_URL,
    delivery: {
      smtpUrl: env.SMTP_URL,
      mailFrom: env.MAIL_FROM,
      webhookSigningSecret: env.WEBHOOK_SIGNING_SECRET,
      webhookTimeoutMs: env.WEBHOOK_TIMEOUT_MS,
    },
    retention: {
      timeZone: env.RETENTION_TIMEZONE,
      batchSize: env.RETENTION_BATCH_SIZE,
      catchupWindow: env.RETENTION_CATCHUP_WINDOW,
      maxAgeDays: {
        notifications: env.RETENTION_NOTIFICATIONS_DAYS,
        campaign_recipients: env.RETENTION_CAMPAIGN_RECIPIENTS_DAYS,
        dead_letters: env.RETENTION_DEAD_LETTERS_DAYS,
      },
    },
    campaigns: {
      batchSize: env.CAMPAIGN_BATCH_SIZE,
      sendConcurrency: env.CAMPAIGN_SEND_CONCURRENCY,
      maxAttempts: env.CAMPAIGN_MAX_ATTEMPTS,
      dispatchLimit: env.CAMPAIGN_DISPATCH_LIMIT,
    },
    bridge: {
      prefetch: env.BRIDGE_PREFETCH,
      messageTtlMs: env.BRIDGE_MESSAGE_TTL_MS,
      retryDelayMs: env.BRIDGE_RETRY_DELAY_MS,
      maxAttempts: env.BRIDGE_MAX_ATTEMPTS,
      shutdownTimeoutMs: env.BRIDGE_SHUTDOWN_TIMEOUT_MS,
    },
    logLevel: env.LOG_LEVEL,
    logPretty: env.LOG_PRETTY,
    workerShutdownGraceMs: env.WORKER_SHUTDOWN_GRACE_MS,
    metricsAddress: env.METRICS_ADDRESS,
  };
}

export type Config = ReturnType<typeof toConfig>;

/** Thrown for an invalid environment; its message is the one line an operator needs. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "use the default", as in most shells' `VAR= cmd`.
  const present = Object.fromEntries(
    Object.entries(source).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = environmentSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'environment');
    const raw = present[variable];
    const shown = raw === undefined || /SECRET|PASSWORD|KEY|TOKEN|URL/.test(variable) ? '' : ` (got "${raw}")`;
    throw new ConfigError(`Invalid configuration: ${variable} ${issue.message}${shown}`);
  }
  return toConfig(parsed.data);
}
