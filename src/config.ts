// The one place environment variables are read and validated. Everything else receives a Config.
import { readFileSync } from 'node:fs';
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

// Operations: certificate files, encryption keys and browser origins. Messages name files but never show secrets.
function fileProblem(file: string, showPath: boolean): string | undefined {
  const shown = showPath ? `: ${file}` : '';
  try {
    if (!readFileSync(file, 'utf8').includes('-----BEGIN ')) return `must name a PEM file (-----BEGIN ...)${shown}`;
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `names a file that does not exist${shown}` : `names a file that cannot be read (${code ?? 'error'})${shown}`;
  }
}

function pemFile(showPath: boolean) {
  return z.string().superRefine((file, context) => {
    const problem = fileProblem(file, showPath);
    if (problem) context.addIssue({ code: 'custom', message: problem });
  });
}
/** A CA or certificate file; the error line shows the path after the message, as for any other value. */
const certificateFile = pemFile(false);
/** A private key file: values of *KEY* variables are never echoed, so the message names the path itself. */
const privateKeyFile = pemFile(true);

/** A 256-bit AES key written as base64, or undefined when the text is not one. */
function decodeEncryptionKey(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]{43}=?$/.test(text.trim())) return undefined;
  const key = Buffer.from(text.trim(), 'base64');
  return key.length === 32 ? key : undefined;
}

const ENCRYPTION_KEY_HINT = 'must be 32 random bytes in base64 (generate one with `openssl rand -base64 32`)';
const encryptionKeyId = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1 to 64 letters, digits, dots, dashes or underscores');
const encryptionKey = z.string().refine((text) => decodeEncryptionKey(text) !== undefined, { message: ENCRYPTION_KEY_HINT });

/** `id:base64key,id:base64key`: keys retired from encryption that must still decrypt what they encrypted. */
const previousEncryptionKeys = z.string().transform((text, context) => {
  const keys: Record<string, Buffer> = {};
  const entries = text.split(',').map((entry) => entry.trim()).filter(Boolean);
  for (const [index, entry] of entries.entries()) {
    const separator = entry.indexOf(':');
    const id = entry.slice(0, separator);
    const key = separator > 0 ? decodeEncryptionKey(entry.slice(separator + 1)) : undefined;
    if (!encryptionKeyId.safeParse(id).success || !key) {
      context.addIssue({ code: 'custom', message: `entry ${index + 1} is not <key id>:<key>, where the key ${ENCRYPTION_KEY_HINT}` });
      return z.NEVER;
    }
    if (keys[id]) {
      context.addIssue({ code: 'custom', message: `names key id "${id}" twice` });
      return z.NEVER;
    }
    keys[id] = key;
  }
  return keys;
});

const browserOrigins = z
  .string()
  .transform((text) => text.split(',').map((origin) => origin.trim()).filter(Boolean))
  .refine(
    (origins) =>
      origins.length > 0 &&
      origins.every((origin) => {
        try {
          const url = new URL(origin);
          return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === origin;
        } catch {
          return false;
        }
      }),
    { message: 'must be the Web UI origin, scheme://host[:port] without a path (for example http://127.0.0.1:8233), or several separated by commas' },
  );

function operationsConfig(env: Environment) {
  const fail = (message: string): never => {
    throw new ConfigError(`Invalid configuration: ${message}`);
  };

  let payloadEncryption: { currentKeyId: string; keys: Record<string, Buffer> } | undefined;
  if (env.PAYLOAD_ENCRYPTION_KEY || env.PAYLOAD_ENCRYPTION_KEY_ID || env.PAYLOAD_ENCRYPTION_PREVIOUS_KEYS) {
    if (!env.PAYLOAD_ENCRYPTION_KEY || !env.PAYLOAD_ENCRYPTION_KEY_ID) {
      fail('PAYLOAD_ENCRYPTION_KEY_ID and PAYLOAD_ENCRYPTION_KEY must be set together (the id is written into every payload so keys can rotate)');
    }
    const currentKeyId = env.PAYLOAD_ENCRYPTION_KEY_ID!;
    const previous = env.PAYLOAD_ENCRYPTION_PREVIOUS_KEYS ?? {};
    if (previous[currentKeyId]) fail(`PAYLOAD_ENCRYPTION_PREVIOUS_KEYS names key id "${currentKeyId}", which is the current PAYLOAD_ENCRYPTION_KEY_ID`);
    payloadEncryption = { currentKeyId, keys: { ...previous, [currentKeyId]: decodeEncryptionKey(env.PAYLOAD_ENCRYPTION_KEY!)! } };
  }

  if (env.CODEC_SERVER_ADDRESS && !env.CODEC_SERVER_TOKEN) fail('CODEC_SERVER_ADDRESS is set but CODEC_SERVER_TOKEN is not: the codec server never runs without a bearer token');
  if (env.CODEC_SERVER_ADDRESS && !payloadEncryption) fail('CODEC_SERVER_ADDRESS is set but PAYLOAD_ENCRYPTION_KEY is not: the codec server decodes with those keys');

  const temporalTlsSettings = [env.TEMPORAL_TLS_CA_FILE, env.TEMPORAL_TLS_CERT_FILE, env.TEMPORAL_TLS_KEY_FILE, env.TEMPORAL_TLS_SERVER_NAME];
  if (env.TEMPORAL_TLS === false && (temporalTlsSettings.some(Boolean) || env.TEMPORAL_API_KEY)) {
    fail('TEMPORAL_TLS is false, but TEMPORAL_TLS_* or TEMPORAL_API_KEY is set: certificates and API keys are only sent over TLS');
  }
  if (Boolean(env.TEMPORAL_TLS_CERT_FILE) !== Boolean(env.TEMPORAL_TLS_KEY_FILE)) {
    fail('TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE must be set together (mTLS needs the client certificate and its private key)');
  }
  const temporalUsesTls = env.TEMPORAL_TLS ?? (temporalTlsSettings.some(Boolean) || Boolean(env.TEMPORAL_API_KEY));

  const amqpTlsFiles = [env.AMQP_TLS_CA_FILE, env.AMQP_TLS_CERT_FILE, env.AMQP_TLS_KEY_FILE];
  if (amqpTlsFiles.some(Boolean) && new URL(env.AMQP_URL).protocol !== 'amqps:') fail('AMQP_TLS_* is set but AMQP_URL does not start with amqps://');
  if (Boolean(env.AMQP_TLS_CERT_FILE) !== Boolean(env.AMQP_TLS_KEY_FILE)) fail('AMQP_TLS_CERT_FILE and AMQP_TLS_KEY_FILE must be set together');

  return {
    bridgeMetricsAddress: env.BRIDGE_METRICS_ADDRESS,
    /** The statistics API, /healthz and /readyz of the worker. */
    statsAddress: env.STATS_ADDRESS,
    /** /healthz and /readyz of a bridge running on its own. */
    bridgeHealthAddress: env.BRIDGE_HEALTH_ADDRESS,
    readinessTimeoutMs: env.READINESS_TIMEOUT_MS,
    payloadEncryption,
    codecServer: {
      address: env.CODEC_SERVER_ADDRESS,
      token: env.CODEC_SERVER_TOKEN,
      allowedOrigins: env.CODEC_SERVER_ALLOWED_ORIGIN ?? [`http://127.0.0.1:${env.TEMPORAL_UI_PORT}`, `http://localhost:${env.TEMPORAL_UI_PORT}`],
    },
    temporalSecurity: {
      tls: temporalUsesTls
        ? { caFile: env.TEMPORAL_TLS_CA_FILE, certFile: env.TEMPORAL_TLS_CERT_FILE, keyFile: env.TEMPORAL_TLS_KEY_FILE, serverName: env.TEMPORAL_TLS_SERVER_NAME }
        : undefined,
      apiKey: env.TEMPORAL_API_KEY,
    },
    amqpTls: amqpTlsFiles.some(Boolean) ? { caFile: env.AMQP_TLS_CA_FILE, certFile: env.AMQP_TLS_CERT_FILE, keyFile: env.AMQP_TLS_KEY_FILE } : undefined,
  };
}

/** DATABASE_URL with the DATABASE_TLS_* settings written as the libpq parameters node-postgres reads. */
function databaseUrlWithTls(env: Environment): string {
  const fail = (message: string): never => {
    throw new ConfigError(`Invalid configuration: ${message}`);
  };
  const url = new URL(env.DATABASE_URL);
  for (const parameter of ['sslrootcert', 'sslcert', 'sslkey']) {
    const file = url.searchParams.get(parameter);
    const problem = file ? fileProblem(file, true) : undefined;
    if (problem) fail(`DATABASE_URL parameter ${parameter} ${problem}`);
  }
  const files = { sslrootcert: env.DATABASE_TLS_CA_FILE, sslcert: env.DATABASE_TLS_CERT_FILE, sslkey: env.DATABASE_TLS_KEY_FILE };
  const wanted = env.DATABASE_TLS ?? Object.values(files).some(Boolean);
  if (env.DATABASE_TLS === false && Object.values(files).some(Boolean)) fail('DATABASE_TLS is false, but DATABASE_TLS_* files are set');
  if (Boolean(files.sslcert) !== Boolean(files.sslkey)) fail('DATABASE_TLS_CERT_FILE and DATABASE_TLS_KEY_FILE must be set together');
  if (!wanted) return env.DATABASE_URL;
  if (['ssl', 'sslmode', 'sslrootcert', 'sslcert', 'sslkey'].some((parameter) => url.searchParams.has(parameter))) {
    fail('DATABASE_TLS* and TLS parameters inside DATABASE_URL (sslmode, sslrootcert, ...) are both set: use one or the other');
  }
  // verify-full: the server's certificate must chain to the CA and name the host we dialled.
  url.searchParams.set('sslmode', 'verify-full');
  for (const [parameter, file] of Object.entries(files)) if (file) url.searchParams.set(parameter, file);
  return url.toString();
}

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
  CAMPAIGN_BATCH_SIZE: positiveInt.max(10_000).default(5_000),
  CAMPAIGN_SEND_CONCURRENCY: positiveInt.max(1_000).default(20),
  CAMPAIGN_MAX_ATTEMPTS: positiveInt.max(100).default(5),
  CAMPAIGN_DISPATCH_LIMIT: positiveInt.max(1_000).default(50),
  CAMPAIGN_RETRY_DELAY_MS: positiveInt.default(60_000),
  CAMPAIGN_RETRY_MAX_DELAY_MS: positiveInt.default(3_600_000),
  CAMPAIGN_BATCH_MAX_MS: positiveInt.max(600_000).default(5_000),
  CAMPAIGN_HISTORY_LIMIT: positiveInt.min(200, 'must be at least 200').max(40_000).default(2_000),

  // Bridge
  BRIDGE_PREFETCH: positiveInt.max(10_000).default(20),
  BRIDGE_MESSAGE_TTL_MS: nonNegativeInt.default(7 * 24 * 3600 * 1000),
  BRIDGE_RETRY_DELAY_MS: positiveInt.default(5_000),
  BRIDGE_MAX_ATTEMPTS: positiveInt.max(1_000).default(20),
  BRIDGE_SHUTDOWN_TIMEOUT_MS: positiveInt.default(10_000),
  BRIDGE_QUEUE_TYPE: z.enum(['classic', 'quorum'], { message: 'must be classic or quorum' }).default('classic'),
  BRIDGE_MAX_MESSAGE_BYTES: positiveInt.max(16 * 1024 * 1024).default(256 * 1024),
  BRIDGE_HEARTBEAT_SECONDS: nonNegativeInt.max(3_600).default(30),

  // Operations
  LOG_LEVEL: logLevel.default('info'),
  LOG_PRETTY: booleanFlag.default(false),
  WORKER_SHUTDOWN_GRACE_MS: nonNegativeInt.default(30_000),
  METRICS_ADDRESS: hostPort.optional(),
  BRIDGE_METRICS_ADDRESS: hostPort.optional(),
  STATS_ADDRESS: hostPort.optional(),
  BRIDGE_HEALTH_ADDRESS: hostPort.optional(),
  READINESS_TIMEOUT_MS: positiveInt.max(60_000).default(2_000),
  PAYLOAD_ENCRYPTION_KEY_ID: encryptionKeyId.optional(),
  PAYLOAD_ENCRYPTION_KEY: encryptionKey.optional(),
  PAYLOAD_ENCRYPTION_PREVIOUS_KEYS: previousEncryptionKeys.optional(),
  CODEC_SERVER_ADDRESS: hostPort.optional(),
  CODEC_SERVER_TOKEN: z.string().min(32, 'must be at least 32 characters (for example `openssl rand -hex 32`)').optional(),
  CODEC_SERVER_ALLOWED_ORIGIN: browserOrigins.optional(),
  TEMPORAL_TLS: booleanFlag.optional(),
  TEMPORAL_TLS_CA_FILE: certificateFile.optional(),
  TEMPORAL_TLS_CERT_FILE: certificateFile.optional(),
  TEMPORAL_TLS_KEY_FILE: privateKeyFile.optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  DATABASE_TLS: booleanFlag.optional(),
  DATABASE_TLS_CA_FILE: certificateFile.optional(),
  DATABASE_TLS_CERT_FILE: certificateFile.optional(),
  DATABASE_TLS_KEY_FILE: privateKeyFile.optional(),
  AMQP_TLS_CA_FILE: certificateFile.optional(),
  AMQP_TLS_CERT_FILE: certificateFile.optional(),
  AMQP_TLS_KEY_FILE: privateKeyFile.optional(),
});

export type Environment = z.infer<typeof environmentSchema>;

/** Names of every variable the service reads. */
export const CONFIG_VARIABLES = Object.keys(environmentSchema.shape);

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
    databaseUrl: databaseUrlWithTls(env),
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
      /** First retry delay of a recipient after a transient failure; doubles per attempt up to retryMaxDelayMs. */
      retryDelayMs: env.CAMPAIGN_RETRY_DELAY_MS,
      retryMaxDelayMs: env.CAMPAIGN_RETRY_MAX_DELAY_MS,
      /** A batch stops starting sends after this long, so pause and rate changes apply within it. */
      batchMaxMs: env.CAMPAIGN_BATCH_MAX_MS,
      /** History events of one run before it continues as new. */
      historyLimit: env.CAMPAIGN_HISTORY_LIMIT,
    },
    bridge: {
      prefetch: env.BRIDGE_PREFETCH,
      messageTtlMs: env.BRIDGE_MESSAGE_TTL_MS,
      retryDelayMs: env.BRIDGE_RETRY_DELAY_MS,
      maxAttempts: env.BRIDGE_MAX_ATTEMPTS,
      shutdownTimeoutMs: env.BRIDGE_SHUTDOWN_TIMEOUT_MS,
      queueType: env.BRIDGE_QUEUE_TYPE,
      maxMessageBytes: env.BRIDGE_MAX_MESSAGE_BYTES,
      heartbeatSeconds: env.BRIDGE_HEARTBEAT_SECONDS,
    },
    logLevel: env.LOG_LEVEL,
    logPretty: env.LOG_PRETTY,
    workerShutdownGraceMs: env.WORKER_SHUTDOWN_GRACE_MS,
    metricsAddress: env.METRICS_ADDRESS,
    ...operationsConfig(env),
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
