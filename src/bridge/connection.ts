// The one place an AMQP connection is opened, so transport options (TLS, heartbeats) are set once for every user.
import amqp, { type ChannelModel } from 'amqplib';
import type { Config } from '../config';
import { amqpTlsOptions } from '../ops/amqp-tls';

export interface AmqpConnectOptions {
  /** Shown in the broker's connection list (`rabbitmqctl list_connections client_properties`). */
  connectionName: string;
  /** Give up a connect attempt after this long. */
  timeoutMs?: number;
}

export async function connectAmqp(
  config: Pick<Config, 'amqpUrl'> & Partial<Pick<Config, 'amqpTls'>> & { bridge: Pick<Config['bridge'], 'heartbeatSeconds'> },
  { connectionName, timeoutMs = 10_000 }: AmqpConnectOptions,
): Promise<ChannelModel> {
  const url = new URL(config.amqpUrl);
  // An explicit ?heartbeat= in AMQP_URL wins over the setting.
  if (!url.searchParams.has('heartbeat')) url.searchParams.set('heartbeat', String(config.bridge.heartbeatSeconds));
  try {
    return await amqp.connect(url.toString(), {
      ...amqpTlsOptions(config),
      timeout: timeoutMs,
      clientProperties: { connection_name: connectionName, product: 'notification-jobs' },
    });
  } catch (error) {
    throw new Error(`Could not connect to RabbitMQ at ${url.host}, vhost "${vhostOf(config.amqpUrl)}": ${explainConnectError(error)}`, { cause: error });
  }
}

function explainConnectError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // The broker refuses an unknown vhost (or one the user may not use) by closing during the handshake.
  if (/Expected ConnectionOpenOk/.test(message)) return 'the vhost does not exist, or the user has no permission on it';
  return message;
}

/** The vhost named by an AMQP URL ("/" when the path is empty), for operator messages. */
export function vhostOf(amqpUrl: string): string {
  const path = new URL(amqpUrl).pathname;
  return path.length > 1 ? decodeURIComponent(path.slice(1)) : '/';
}
