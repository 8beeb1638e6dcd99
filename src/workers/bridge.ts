// `npm run bridge`: the RabbitMQ bridge on its own, so it scales apart from the workers.
import { createEventBridge } from '../bridge/bridge';
import { TopologyMismatchError } from '../bridge/topology';
import { ConfigError, loadConfig } from '../config';
import { createLogger } from '../logger';
import { recordBridgeOutcome, recordBridgeReconnect } from '../ops/metrics';
import { startBridgeOperations } from '../ops/service';
import { installRuntime, shutdownRuntime } from './runtime';

async function main() {
  const config = loadConfig();
  const logger = createLogger(config, 'bridge');
  // The SDK runtime serves the bridge's Prometheus metrics (BRIDGE_METRICS_ADDRESS).
  installRuntime(config, logger, 'bridge');
  const operations = await startBridgeOperations({ config, logger });
  const bridge = createEventBridge({ config, logger, onOutcome: recordBridgeOutcome, onReconnect: recordBridgeReconnect });
  // Installed before start-up, so a SIGTERM while still connecting also ends cleanly.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void bridge.stop().then(() => operations.close()).then(shutdownRuntime));
  await bridge.start();
}

main().catch((error) => {
  const expected = error instanceof ConfigError || error instanceof TopologyMismatchError;
  console.error(expected ? error.message : error instanceof Error ? error.stack : error);
  process.exit(1);
});
