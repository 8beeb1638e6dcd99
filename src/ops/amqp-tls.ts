// AMQPS: the CA and client certificate files from AMQP_TLS_*, as amqplib's socket options.
import type { Config } from '../config';
import { tlsSocketOptions } from './tls-files';

/** Spread into amqplib's connect options; empty for amqp:// or when the system CAs are enough. */
export function amqpTlsOptions(config: Partial<Pick<Config, 'amqpTls'>>): { ca?: Buffer[]; cert?: Buffer; key?: Buffer } {
  return tlsSocketOptions('AMQP_TLS', config.amqpTls);
}
