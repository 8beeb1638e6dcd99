// `npm run dlq -- list | replay --limit <n>`: inspect the bridge's dead-letter queue, and send its messages back after a fix.
import { Command, InvalidArgumentError } from 'commander';
import { connectAmqp, vhostOf } from '../bridge/connection';
import { listDeadLetters, replayDeadLetters, type DeadLetteredMessage } from '../bridge/dead-letter-queue';
import { TOPOLOGY } from '../bridge/topology';
import { ConfigError, loadConfig, type Config } from '../config';

function positiveCount(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed) || parsed <= 0) {
    throw new InvalidArgumentError(`must be a positive whole number, got "${value}"`);
  }
  return parsed;
}

function row(message: DeadLetteredMessage): string {
  // Identifiers and the reason only: the body may hold personal data.
  const when = message.deadLetteredAt ?? '-';
  return [when.padEnd(24), message.routingKey.padEnd(18), (message.eventId ?? '-').slice(0, 40).padEnd(40), String(message.attempts).padStart(8), `  ${message.reason}`].join(' ');
}

async function withChannel<T>(config: Config, use: (connection: Awaited<ReturnType<typeof connectAmqp>>) => Promise<T>): Promise<T> {
  const connection = await connectAmqp(config, { connectionName: 'notification-jobs dlq command' });
  connection.on('error', () => undefined);
  try {
    return await use(connection);
  } finally {
    await connection.close().catch(() => undefined);
  }
}

async function list(options: { limit: number; json?: boolean }) {
  const config = loadConfig();
  await withChannel(config, async (connection) => {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    const { messages, total } = await listDeadLetters(channel, options.limit);
    if (options.json) {
      console.log(JSON.stringify({ queue: TOPOLOGY.deadLetterQueue, total, messages }, null, 2));
      return;
    }
    console.log(`${TOPOLOGY.deadLetterQueue} in vhost "${vhostOf(config.amqpUrl)}": ${total} message${total === 1 ? '' : 's'}`);
    if (messages.length === 0) return;
    console.log(['dead-lettered at'.padEnd(24), 'routing key'.padEnd(18), 'event id'.padEnd(40), 'attempts'.padStart(8), '  reason'].join(' '));
    for (const message of messages) console.log(row(message));
    if (total > messages.length) console.log(`... and ${total - messages.length} more (raise --limit to see them)`);
  });
}

async function replay(options: { limit: number }) {
  const config = loadConfig();
  await withChannel(config, async (connection) => {
    const channel = await connection.createConfirmChannel();
    channel.on('error', () => undefined);
    const { replayed, remaining } = await replayDeadLetters(channel, options.limit);
    for (const message of replayed) console.log(`replayed ${message.routingKey} ${message.eventId ?? '-'}`);
    console.log(`${replayed.length} message${replayed.length === 1 ? '' : 's'} sent back to ${TOPOLOGY.workQueue}; ${remaining} left in ${TOPOLOGY.deadLetterQueue}`);
  });
}

async function main() {
  const program = new Command()
    .name('dlq')
    .description(`Inspect and re-drive ${TOPOLOGY.deadLetterQueue}, the bridge's dead-letter queue (AMQP_URL selects the broker and vhost).`)
    .showHelpAfterError()
    .configureOutput({ outputError: (text, write) => write(text) });
  program
    .command('list')
    .description('show the messages waiting in the dead-letter queue, oldest first, with their reasons (bodies are not shown)')
    .option('--limit <count>', 'show at most this many', positiveCount, 50)
    .option('--json', 'print JSON instead of a table')
    .action(list);
  program
    .command('replay')
    .description('send messages from the dead-letter queue back to the work queue, oldest first (a duplicate of an event already handled is a no-op)')
    .requiredOption('--limit <count>', 'replay at most this many', positiveCount)
    .action(replay);
  await program.parseAsync();
}

main().catch((error) => {
  console.error(error instanceof ConfigError ? error.message : error instanceof Error ? error.message : error);
  process.exit(1);
});
