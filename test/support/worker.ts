// An in-process worker against the test servers, with the real activities and a real channel layer.
import { readFileSync } from 'node:fs';
import { NativeConnection } from '@temporalio/worker';
import { closeChannels, createChannels } from '../../src/channels';
import type { Config } from '../../src/config';
import { createLogger } from '../../src/logger';
import { connectClient } from '../../src/temporal/connection';
import type { TaskQueue } from '../../src/temporal/task-queues';
import { installRuntime } from '../../src/workers/runtime';
import { startWorkers } from '../../src/workers/worker';
import type { TestDatabase } from './database';
import { prebuiltWorkflowBundle } from './worker-process';

export interface TestWorker {
  shutdown(): Promise<void>;
}

export async function startTestWorker(config: Config, database: TestDatabase, taskQueues?: TaskQueue[]): Promise<TestWorker> {
  const logger = createLogger(config, 'test-worker');
  installRuntime(config, logger);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const client = await connectClient(config);
  const channels = createChannels(config, logger);
  const workflowBundle = { code: readFileSync(await prebuiltWorkflowBundle(), 'utf8') };
  const workers = await startWorkers({ config, logger, db: database.db, channels, client, connection, workflowBundle, taskQueues });
  return {
    async shutdown() {
      await workers.shutdown();
      await closeChannels(channels);
      await client.connection.close();
      await connection.close();
    },
  };
}
