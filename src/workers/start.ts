// `npm start`: the whole service on its defaults. Uses the Temporal server at TEMPORAL_ADDRESS, or starts
// a dev server (SQLite under TEMPORAL_DATA_DIR, Web UI) when none answers there.
import path from 'node:path';
import { createEventBridge } from '../bridge/bridge';
import { TopologyMismatchError } from '../bridge/topology';
import { ConfigError, loadConfig } from '../config';
import { createLogger } from '../logger';
import { recordBridgeOutcome, recordBridgeReconnect } from '../ops/metrics';
import { startConfiguredCodecServer } from '../ops/codec-server';
import { resolveTemporalCli } from '../temporal/cli-binary';
import { isTemporalReachable, startDevServer, type DevServer } from '../temporal/dev-server';
import { runWorkerService } from './worker';

async function main() {
  const config = loadConfig();
  const logger = createLogger(config, 'notification-jobs');

  // Started first so the dev server's Web UI can be pointed at it.
  const codecServer = await startConfiguredCodecServer(config, logger);
  let devServer: DevServer | undefined;
  if (await isTemporalReachable(config.temporal.address)) {
    logger.info({ temporalAddress: config.temporal.address }, 'using the Temporal server already running');
  } else {
    const binary = await resolveTemporalCli({ explicitPath: config.temporal.cliPath, onProgress: (message) => logger.info(message) });
    devServer = await startDevServer({
      binary,
      address: config.temporal.address,
      namespace: config.temporal.namespace,
      databaseFile: path.resolve(config.temporal.dataDir, 'temporal.sqlite'),
      uiPort: config.temporal.uiPort,
      uiCodecEndpoint: codecServer?.url,
    });
    logger.info({ temporalAddress: devServer.address, webUi: devServer.uiUrl }, `Temporal dev server started; Web UI at ${devServer.uiUrl}`);
  }

  const worker = await runWorkerService(config, logger);
  // After the worker, so the first events find someone to run their workflows.
  const bridge = createEventBridge({
    config,
    logger: createLogger(config, 'bridge'),
    onOutcome: recordBridgeOutcome,
    onReconnect: recordBridgeReconnect,
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // The bridge first: no new workflows start while the worker finishes what it has.
    await bridge.stop();
    await worker.stop();
    await devServer?.stop();
    await codecServer?.close();
    logger.info('stopped');
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () =>
      stop(signal).catch((error) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exitCode = 1;
      }),
    );
  }
  try {
    await bridge.start();
  } catch (error) {
    await stop('bridge start-up failed');
    throw error;
  }
  await worker.finished;
  if (!stopping) {
    await devServer?.stop();
    await codecServer?.close();
  }
}

main().catch((error) => {
  const expected = error instanceof ConfigError || error instanceof TopologyMismatchError;
  console.error(expected ? error.message : error instanceof Error ? error.stack : error);
  process.exit(1);
});
