// A real Temporal dev server per test file (in memory), on a free loopback port.
import { Client, Connection } from '@temporalio/client';
import { resolveTemporalCli } from '../../src/temporal/cli-binary';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server';
import { freePort } from './ports';

export interface TestTemporal {
  address: string;
  namespace: string;
  client: Client;
  server: DevServer;
  /** Starts the same server again after `server.stop()` (for outage tests); history is lost unless databaseFile was given. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestTemporal(options: { databaseFile?: string } = {}): Promise<TestTemporal> {
  const binary = await resolveTemporalCli({ explicitPath: process.env.TEMPORAL_CLI_PATH || undefined });
  const address = `127.0.0.1:${await freePort()}`;
  const namespace = 'default';
  const start = () => startDevServer({ binary, address, namespace, databaseFile: options.databaseFile });
  const handle = {
    address,
    namespace,
    server: await start(),
    client: undefined as unknown as Client,
    async restart() {
      handle.server = await start();
    },
    async stop() {
      await handle.client.connection.close().catch(() => undefined);
      await handle.server.stop();
    },
  };
  handle.client = new Client({ connection: await Connection.connect({ address }), namespace });
  return handle;
}
