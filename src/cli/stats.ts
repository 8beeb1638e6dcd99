// `npm run stats`: task queue backlogs, workflows, running campaigns, dead letters and RabbitMQ depths as tables.
// Reads a running statistics API with --url, or gathers the figures itself from the configured servers.
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig } from '../config';
import { openDatabase } from '../db/connect';
import { collectStatistics, type Statistics } from '../ops/stats';
import { renderStatistics } from '../ops/stats-table';
import { operationsClient } from '../temporal/connection';

async function fetchStatistics(url: string, timeoutMs: number): Promise<Statistics> {
  const target = new URL('/stats', url);
  const response = await fetch(target, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`${target} answered HTTP ${response.status}`);
  return (await response.json()) as Statistics;
}

async function gatherStatistics(timeoutMs: number): Promise<Statistics> {
  const config = loadConfig();
  // With Temporal unreachable, its sections say so and the others are still printed.
  const client = operationsClient(config);
  const db = openDatabase(config.databaseUrl, { maxConnections: 2 });
  try {
    return await collectStatistics({ client, namespace: config.temporal.namespace, db, amqp: config, timeoutMs });
  } finally {
    await Promise.allSettled([db.destroy(), client.connection.close()]);
  }
}

function milliseconds(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new InvalidArgumentError('must be a positive number of milliseconds');
  return parsed;
}

async function main() {
  const program = new Command()
    .name('stats')
    .description('Print the service statistics: task queue backlog and pollers, workflows by type and status, running campaigns, dead letters, RabbitMQ queue depths.')
    .option('--url <url>', 'read them from a running statistics API (STATS_ADDRESS), e.g. http://127.0.0.1:9465')
    .option('--json', 'print the JSON document instead of tables')
    .option('--timeout <ms>', 'give up on a source after this long', milliseconds, 5_000)
    .showHelpAfterError();
  program.parse();
  const options = program.opts<{ url?: string; json?: boolean; timeout: number }>();
  const stats = options.url ? await fetchStatistics(options.url, options.timeout) : await gatherStatistics(options.timeout);
  console.log(options.json ? JSON.stringify(stats, null, 2) : renderStatistics(stats));
  // A source that could not be read is worth a non-zero exit for scripts.
  if (Object.keys(stats.errors).length > 0) process.exitCode = 2;
}

main().catch((error) => {
  console.error(error instanceof ConfigError ? error.message : error instanceof Error ? error.message : error);
  process.exit(1);
});
