// The worker: one Temporal Worker per task queue, sharing a connection and the workflow bundle.
import { NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import { createCampaignActivities } from '../activities/campaign';
import { createDeadLetterActivities } from '../activities/dead-letters';
import { createDeliveryActivities } from '../activities/delivery';
import { createRetentionActivities } from '../activities/retention';
import { closeChannels, createChannels, type Channels } from '../channels';
import { loadConfig, type Config } from '../config';
import { openDatabase, ensureDatabaseExists } from '../db/connect';
import { migrateToLatest } from '../db/migrate';
import type { Database } from '../db/schema';
import { createLogger, type Logger } from '../logger';
import { startWorkerOperations } from '../ops/service';
import { connectClient, temporalConnectionOptions } from '../temporal/connection';
import { createDataConverter } from '../temporal/data-converter';
import { ensureSearchAttributes } from '../temporal/register-search-attributes';
import { ensureSchedules } from '../temporal/schedules';
import { TASK_QUEUES, type TaskQueue } from '../temporal/task-queues';
import { recordRetentionRowsDeleted } from '../ops/metrics';
import { installRuntime } from './runtime';
import { loadWorkflowBundle } from './workflow-bundle';

export interface WorkerDependencies {
  config: Config;
  logger: Logger;
  db: Kysely<Database>;
  channels: Channels;
  client: Client;
}

/** Which activities each task queue's worker runs. */
function activitiesByTaskQueue(deps: WorkerDependencies): Record<TaskQueue, object> {
  const deadLetters = createDeadLetterActivities(deps);
  return {
    [TASK_QUEUES.maintenance]: { ...createRetentionActivities({ ...deps, onBatchDeleted: recordRetentionRowsDeleted }) },
    [TASK_QUEUES.campaigns]: { ...createCampaignActivities(deps), ...deadLetters },
    [TASK_QUEUES.transactional]: { ...createDeliveryActivities(deps), ...deadLetters },
  };
}

export interface RunningWorkers {
  /** Settles when every worker has stopped. */
  finished: Promise<void>;
  /** Stops polling, lets in-flight activities finish (up to the grace time), then resolves. */
  shutdown(): Promise<void>;
}

export async function startWorkers(
  deps: WorkerDependencies & { connection: NativeConnection; workflowBundle: WorkflowBundle; taskQueues?: TaskQueue[] },
): Promise<RunningWorkers> {
  const activities = activitiesByTaskQueue(deps);
  const queues = deps.taskQueues ?? (Object.values(TASK_QUEUES) as TaskQueue[]);
  const workers = await Promise.all(
    queues.map((taskQueue) =>
      Worker.create({
        connection: deps.connection,
        namespace: deps.config.temporal.namespace,
        taskQueue,
        workflowBundle: deps.workflowBundle,
        activities: activities[taskQueue],
        // The same codec as every client: payloads and failure messages leave the worker encrypted.
        dataConverter: createDataConverter(deps.config),
        shutdownGraceTime: deps.config.workerShutdownGraceMs,
        // Cancellation reaches an activity through its heartbeat: a short throttle makes "stop after the
        // current batch" mean that, instead of up to 80% of the heartbeat timeout later.
        maxHeartbeatThrottleInterval: '1 second',
      }),
    ),
  );
  const finished = Promise.all(workers.map((worker) => worker.run())).then(() => undefined);
  return {
    finished,
    async shutdown() {
      for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
      await finished;
    },
  };
}

/** Prepares the database and schedules, then runs the workers until `stop` is called. */
export async function runWorkerService(config: Config, logger: Logger) {
  installRuntime(config, logger);
  await ensureDatabaseExists(config.databaseUrl);
  const db = openDatabase(config.databaseUrl, { onIdleError: (error) => logger.warn({ err: error }, 'idle database connection lost') });
  const applied = await migrateToLatest(db);
  if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');

  const client = await connectClient(config);
  await ensureSearchAttributes(client, config.temporal.namespace, logger);
  const schedules = await ensureSchedules(client, config);
  logger.info({ schedules }, 'schedules ensured');
  const operations = await startWorkerOperations({ config, logger, db });

  const workflowBundle = await loadWorkflowBundle(config.temporal.workflowBundlePath);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  const channels = createChannels(config, logger);
  const workers = await startWorkers({ config, logger, db, channels, client, connection, workflowBundle });
  logger.info({ taskQueues: Object.values(TASK_QUEUES), namespace: config.temporal.namespace }, 'worker started');

  const closeResources = async () => {
    await Promise.allSettled([operations.close(), closeChannels(channels), db.destroy(), connection.close(), client.connection.close()]);
  };
  const finished = workers.finished.finally(closeResources);
  return {
    finished,
    async stop() {
      logger.info('worker shutting down: finishing in-flight activities');
      await workers.shutdown().catch(() => undefined);
      await finished;
      logger.info('worker stopped');
    },
  };
}

async function main() {
  const config = loadConfig();
  const logger = createLogger(config, 'worker');
  const service = await runWorkerService(config, logger);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void service.stop());
  await service.finished;
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
