// `npm run campaigns -- <command>`: create a campaign from a recipient file, schedule it, follow its
// progress, and list or re-drive its dead letters. Pause, resume, setRate and cancel go through the
// `temporal` CLI against campaign-<id> (see the README).
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Client } from '@temporalio/client';
import { CampaignCommandError, listCampaignDeadLetters, redriveCampaignDeadLetters } from '../campaigns/dead-letters';
import { createCampaignFromFile, readCampaignOverview, releaseOrphanedCampaign, scheduleCampaign, RecipientFileError } from '../campaigns/operations';
import { startCampaignWorkflow } from '../campaigns/start-workflow';
import { ConfigError, loadConfig, type Config } from '../config';
import { openDatabase } from '../db/connect';
import type { Channel } from '../db/schema';
import { connectClient } from '../temporal/connection';
import { progressQuery } from '../workflows/campaign-messages';
import { campaignWorkflowId, isCampaignId, type CampaignProgress } from '../workflows/campaign-types';

const CHANNELS: Channel[] = ['email', 'webhook', 'log'];

function campaignIdArgument(value: string): string {
  if (!isCampaignId(value)) throw new InvalidArgumentError(`a campaign id is a UUID, got "${value}"`);
  return value.toLowerCase();
}

function dateArgument(value: string): Date {
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime())) {
    throw new InvalidArgumentError(`must be an ISO 8601 time such as 2030-01-31T09:00:00Z, got "${value}"`);
  }
  return date;
}

function positiveNumber(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed <= 0) throw new InvalidArgumentError(`must be a number greater than 0, got "${value}"`);
  return parsed;
}

function positiveCount(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value.trim()) || parsed <= 0) throw new InvalidArgumentError(`must be a positive whole number, got "${value}"`);
  return parsed;
}

async function withDatabase<T>(use: (db: ReturnType<typeof openDatabase>, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const db = openDatabase(config.databaseUrl, { maxConnections: 2 });
  try {
    return await use(db, config);
  } finally {
    await db.destroy();
  }
}

/** Temporal is optional for reading progress and re-driving: the database alone is enough, just slower to act. */
async function tryTemporal<T>(config: Config, use: (client: Client) => Promise<T>): Promise<{ value?: T; problem?: string }> {
  let client: Client | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from Temporal at ${config.temporal.address} within 10 s`)), 10_000);
    });
    client = await Promise.race([connectClient(config), timeout]);
    return { value: await Promise.race([use(client), timeout]) };
  } catch (error) {
    return { problem: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
    await client?.connection.close().catch(() => undefined);
  }
}

const when = (date: Date | null) => (date ? date.toISOString() : '-');

interface CreateOptions {
  name: string;
  channel: Channel;
  subject?: string;
  body?: string;
  bodyFile?: string;
  recipients: string;
  format?: string;
  scheduleAt?: Date;
  now?: boolean;
  rate?: number;
  json?: boolean;
}

async function create(options: CreateOptions) {
  if (options.body === undefined && options.bodyFile === undefined) throw new InvalidArgumentError('give the message body with --body <template> or --body-file <file>');
  if (options.body !== undefined && options.bodyFile !== undefined) throw new InvalidArgumentError('give --body or --body-file, not both');
  if (options.scheduleAt && options.now) throw new InvalidArgumentError('give --schedule-at or --now, not both');
  const { readFile } = await import('node:fs/promises');
  const body = options.body ?? (await readFile(options.bodyFile!, 'utf8').catch((error: Error) => {
    throw new CampaignCommandError(`Cannot read --body-file: ${error.message}`);
  }));
  const created = await withDatabase((db) =>
    createCampaignFromFile(db, {
      name: options.name,
      channel: options.channel,
      subject: options.subject,
      body,
      recipientsFile: options.recipients,
      format: options.format,
      scheduleAt: options.now ? new Date() : options.scheduleAt,
      ratePerSecond: options.rate,
    }),
  );
  if (options.json) {
    console.log(JSON.stringify(created));
    return;
  }
  const schedule = created.status === 'scheduled' ? `scheduled for ${when(created.scheduledAt)}` : `a draft (schedule it with: campaigns schedule ${created.campaignId})`;
  console.log(`Created campaign ${created.campaignId} with ${created.recipients} recipients, ${schedule}`);
}

async function schedule(campaignId: string, options: { at?: Date }) {
  const at = options.at ?? new Date();
  await withDatabase((db) => scheduleCampaign(db, campaignId, at));
  console.log(`Campaign ${campaignId} is scheduled for ${at.toISOString()}; the dispatcher starts ${campaignWorkflowId(campaignId)} within a minute of that`);
}

async function progress(campaignId: string, options: { json?: boolean }) {
  await withDatabase(async (db, config) => {
    const overview = await readCampaignOverview(db, campaignId);
    // The running workflow knows the rate in force and whether a pause is pending; the database has the rest.
    const live = ['processing', 'paused'].includes(overview.status)
      ? await tryTemporal(config, (client) => client.workflow.getHandle(campaignWorkflowId(campaignId)).query(progressQuery))
      : {};
    const workflow: CampaignProgress | undefined = live.value;
    if (options.json) {
      console.log(JSON.stringify({ ...overview, workflow: workflow ?? null }));
      return;
    }
    const rate = workflow?.ratePerSecond ?? overview.ratePerSecond;
    const lines: Array<[string, string]> = [
      ['campaign', `${campaignId} "${overview.name}" (${overview.channel})`],
      ['status', overview.status + (overview.failureReason ? `: ${overview.failureReason}` : '')],
      ['total', String(overview.total)],
      ['sent', String(overview.sent)],
      ['failed', String(overview.failed)],
      ['pending', String(overview.pending)],
      ['rate', rate ? `${rate} recipients/s` : 'unlimited'],
      ['dead letters', `${overview.deadLetters} not re-driven`],
      ['scheduled at', when(overview.scheduledAt)],
      ['started at', when(overview.startedAt)],
      ['completed at', when(overview.completedAt)],
    ];
    if (live.problem) lines.push(['workflow', `not queried (${live.problem})`]);
    for (const [label, value] of lines) console.log(`${label.padEnd(14)}${value}`);
  });
}

async function listDeadLetters(campaignId: string, options: { all?: boolean; limit: number; json?: boolean }) {
  await withDatabase(async (db) => {
    await readCampaignOverview(db, campaignId);
    const { deadLetters, total } = await listCampaignDeadLetters(db, campaignId, { includeRedriven: options.all, limit: options.limit });
    if (options.json) {
      console.log(JSON.stringify({ campaignId, total, deadLetters }));
      return;
    }
    console.log(`Campaign ${campaignId}: ${total} dead letter${total === 1 ? '' : 's'}${options.all ? '' : ' not re-driven'}`);
    if (deadLetters.length === 0) return;
    console.log(['recipient'.padEnd(24), 'attempts'.padStart(8), '  dead-lettered at'.padEnd(27), 're-driven at'.padEnd(25), 'error'].join(' '));
    for (const letter of deadLetters) {
      console.log([letter.recipientId.padEnd(24), String(letter.attempts).padStart(8), `  ${when(letter.createdAt)}`.padEnd(27), when(letter.redrivenAt).padEnd(25), letter.error].join(' '));
    }
    if (total > deadLetters.length) console.log(`... and ${total - deadLetters.length} more (raise --limit to see them)`);
  });
}

async function redrive(campaignId: string, options: { recipient?: string[] }) {
  await withDatabase(async (db, config) => {
    const result = await redriveCampaignDeadLetters(db, campaignId, options.recipient);
    if (result.redriven === 0) {
      console.log(`Campaign ${campaignId}: no dead letter to re-drive`);
      return;
    }
    const noun = `${result.redriven} recipient${result.redriven === 1 ? '' : 's'}`;
    if (result.status !== 'scheduled') {
      console.log(`Re-drove ${noun} of campaign ${campaignId}; it is ${result.status} and sends them in its next pass`);
      return;
    }
    const started = await tryTemporal(config, (client) => startCampaignWorkflow(client, campaignId));
    const next = started.value
      ? `${campaignWorkflowId(campaignId)} ${started.value === 'started' ? 'started' : 'is already running and picks them up'}`
      : `the dispatcher starts ${campaignWorkflowId(campaignId)} within a minute (${started.problem})`;
    console.log(`Re-drove ${noun} of campaign ${campaignId}; ${next}`);
  });
}

async function recover(campaignId: string) {
  await withDatabase(async (db, config) => {
    // The campaign's own workflow ID, and any other run tagged with its CampaignId, must be closed.
    const open = await tryTemporal(config, async (client) => {
      try {
        if ((await client.workflow.getHandle(campaignWorkflowId(campaignId)).describe()).status.name === 'RUNNING') return true;
      } catch (error) {
        if ((error as Error).name !== 'WorkflowNotFoundError') throw error;
      }
      const { count } = await client.workflow.count(`CampaignId = '${campaignId}' AND ExecutionStatus = 'Running'`);
      return count > 0;
    });
    if (open.problem) throw new CampaignCommandError(`Cannot tell whether ${campaignWorkflowId(campaignId)} is running: ${open.problem}`);
    if (open.value) throw new CampaignCommandError(`${campaignWorkflowId(campaignId)} is running: there is nothing to recover`);
    await releaseOrphanedCampaign(db, campaignId);
    const started = await tryTemporal(config, (client) => startCampaignWorkflow(client, campaignId));
    console.log(`Campaign ${campaignId} is scheduled again; ${started.value ? `${campaignWorkflowId(campaignId)} ${started.value}` : `the dispatcher starts it within a minute (${started.problem})`}`);
  });
}

export function buildProgram(): Command {
  const program = new Command()
    .name('campaigns')
    .description('Operate notification campaigns (DATABASE_URL and TEMPORAL_ADDRESS select the service).')
    .showHelpAfterError()
    .configureOutput({ outputError: (text, write) => write(text) });

  program
    .command('create')
    .description('create a campaign and its recipients from a CSV or JSON file (all or nothing)')
    .requiredOption('--name <name>', 'a name for people')
    .addOption(new Option('--channel <channel>', 'how to deliver').choices(CHANNELS).makeOptionMandatory())
    .option('--subject <template>', 'subject template (email), e.g. "Hello {{name}}"')
    .option('--body <template>', 'body template with {{variable}} placeholders')
    .option('--body-file <file>', 'read the body template from a file')
    .requiredOption('--recipients <file>', 'CSV with a header (recipient_id, address, then one column per variable) or JSON array of { recipientId, address, variables }')
    .addOption(new Option('--format <format>', 'recipient file format, when its name does not end in .csv or .json').choices(['csv', 'json']))
    .option('--schedule-at <time>', 'schedule it for this ISO 8601 time (default: leave it a draft)', dateArgument)
    .option('--now', 'schedule it to start at once')
    .option('--rate <recipients-per-second>', 'rate limit (default: as fast as the send concurrency allows)', positiveNumber)
    .option('--json', 'print the result as JSON')
    .action(create);

  program
    .command('schedule')
    .description('make a draft campaign due (the dispatcher starts due campaigns every minute)')
    .argument('<campaign-id>', 'the campaign UUID', campaignIdArgument)
    .option('--at <time>', 'ISO 8601 time (default: now)', dateArgument)
    .action(schedule);

  program
    .command('progress')
    .description('show status, counts, rate and dead letters of a campaign')
    .argument('<campaign-id>', 'the campaign UUID', campaignIdArgument)
    .option('--json', 'print JSON')
    .action(progress);

  const deadLetters = program.command('dead-letters').description("list or re-drive a campaign's dead letters");
  deadLetters
    .command('list')
    .description('recipients that exhausted their attempts or could never be delivered, with the reason')
    .argument('<campaign-id>', 'the campaign UUID', campaignIdArgument)
    .option('--all', 'include dead letters already re-driven')
    .option('--limit <count>', 'show at most this many', positiveCount, 100)
    .option('--json', 'print JSON')
    .action(listDeadLetters);
  deadLetters
    .command('redrive')
    .description('put dead-lettered recipients back to pending and send them again (a finished campaign is started again)')
    .argument('<campaign-id>', 'the campaign UUID', campaignIdArgument)
    .option('--recipient <recipient-id...>', 'only these recipients')
    .action(redrive);

  program
    .command('recover')
    .description('reschedule a campaign left processing or paused by a workflow that no longer runs (e.g. terminated)')
    .argument('<campaign-id>', 'the campaign UUID', campaignIdArgument)
    .action(recover);

  return program;
}

async function main() {
  await buildProgram().parseAsync();
}

if (require.main === module) {
  main().catch((error) => {
    const expected = error instanceof ConfigError || error instanceof CampaignCommandError || error instanceof RecipientFileError || error instanceof InvalidArgumentError;
    console.error(`error: ${expected ? error.message : error instanceof Error ? error.stack : String(error)}`);
    process.exit(expected && error instanceof InvalidArgumentError ? 2 : 1);
  });
}
