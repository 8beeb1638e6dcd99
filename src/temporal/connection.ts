// Client-side connection to Temporal, shared by the worker's schedules, the bridge and the CLI.
// TLS, mTLS and API keys come from configuration alone, so Temporal Cloud needs no code change.
import { Client, Connection, type TLSConfig } from '@temporalio/client';
import type { Config } from '../config';
import { readTlsFile } from '../ops/tls-files';
import { createDataConverter } from './data-converter';

export type TemporalConnectionConfig = Pick<Config, 'temporal'> & Partial<Pick<Config, 'temporalSecurity' | 'payloadEncryption'>>;

export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig;
  apiKey?: string;
  metadata?: Record<string, string>;
}

/** Options for both `Connection.connect` (clients) and `NativeConnection.connect` (workers). */
export function temporalConnectionOptions(config: TemporalConnectionConfig): TemporalConnectionOptions {
  const security = config.temporalSecurity;
  const options: TemporalConnectionOptions = { address: config.temporal.address };
  if (security?.tls) {
    const { caFile, certFile, keyFile, serverName } = security.tls;
    options.tls = {
      ...(caFile ? { serverRootCACertificate: readTlsFile('TEMPORAL_TLS_CA_FILE', caFile) } : {}),
      ...(certFile && keyFile
        ? { clientCertPair: { crt: readTlsFile('TEMPORAL_TLS_CERT_FILE', certFile), key: readTlsFile('TEMPORAL_TLS_KEY_FILE', keyFile) } }
        : {}),
      ...(serverName ? { serverNameOverride: serverName } : {}),
    };
  }
  if (security?.apiKey) {
    options.apiKey = security.apiKey;
    // Temporal Cloud's regional API-key endpoints route by this header.
    options.metadata = { 'temporal-namespace': config.temporal.namespace };
  }
  return options;
}

/**
 * A client for statistics and health checks: connects on first use, and without the SDK's retrying
 * interceptor, so a call that timed out ends instead of retrying after its caller gave up.
 */
export function operationsClient(config: TemporalConnectionConfig): Client {
  const connection = Connection.lazy({ ...temporalConnectionOptions(config), interceptors: [] });
  return new Client({ connection, namespace: config.temporal.namespace });
}

export async function connectClient(config: TemporalConnectionConfig): Promise<Client> {
  const connection = await Connection.connect(temporalConnectionOptions(config));
  return new Client({ connection, namespace: config.temporal.namespace, dataConverter: createDataConverter(config) });
}
