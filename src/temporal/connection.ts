// Client-side connection to Temporal, shared by the worker's schedules, the bridge and the CLI.
import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config';

export async function connectClient(config: Pick<Config, 'temporal'>): Promise<Client> {
  const connection = await Connection.connect({ address: config.temporal.address });
  return new Client({ connection, namespace: config.temporal.namespace });
}
