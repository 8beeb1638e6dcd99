// `npm run bench:campaign -- --recipients 100000`: sends a log-channel campaign through campaignWorkflow on a
// worker child process, and the same recipients through a plain loop running the same batch code and
// ledger writes with no Temporal; prints both rates, their ratio, history events per run and the worker's
// peak RSS.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql, type Kysely } from 'kysely';
import { LedgerWriter, Pacer, sendBatchInOrder } from '../src/campaigns/batch-sender';
import { createRecipientDelivery } from '../src/campaigns/delivery';
import { claimCampaign, completeCampaign, recordOutcomes, selectDueRecipients, takeLease } from '../src/campaigns/ledger';
import { startCampaignWorkflow } from '../src/campaigns/start-workflow';
import { createLogChannel } from '../src/channels/log';
import type { Database } from '../src/db/schema';
import { createLogger } from '../src/logger';
import { PROJECT_ROOT } from '../src/temporal/cli-binary';
import { TASK_QUEUES } from '../src/temporal/task-queues';
import { campaignWorkflowId, type CampaignResult } from '../src/workflows/campaign-types';
import { testConfig } from '../test/support/config';
import { createTestDatabase } from '../test/support/database';
import { startTestTemporal, type TestTemporal } from '../test/support/temporal';
import { waitFor } from '../test/support/wait';
import { prebuiltWorkflowBundle } from '../test/support/worker-process';

const { values } = parseArgs({
  options: {
    recipients: { type: 'string', default: '100000' },
    'batch-size': { type: 'string' },
    concurrency: { type: 'string' },
    rounds: { type: 'string' },
  },
});
const recipients = Number(values.recipients);
if (!Number.isInteger(recipients) || recipients <= 0) throw new Error(`--recipients must be a positive integer, got ${values.recipients}`);
// Best of two rounds, in alternating order, evens out a noisy shared machine.
const rounds = Number(values.rounds ?? 2);
if (!Number.isInteger(rounds) || rounds <= 0) throw new Error(`--rounds must be a positive integer, got ${values.rounds}`);

// The worker and the plain loop read the same settings: the defaults, or what the flags say.
const env: Record<string, string> = { LOG_LEVEL: 'warn' };
if (values['batch-size']) env.CAMPAIGN_BATCH_SIZE = values['batch-size'];
if (values.concurrency) env.CAMPAIGN_SEND_CONCURRENCY = values.concurrency;

async function seedCampaign(db: Kysely<Database>, name: string): Promise<string> {
  // Scheduled far ahead, so the worker's own dispatcher leaves it to the benchmark.
  const { rows } = await sql<{ id: string }>`
    insert into notification_campaigns (name, channel, subject, body, status, scheduled_at)
    values (${name}, 'log', 'Hello {{name}}', 'Dear {{name}}, your code is {{code}}.', 'scheduled', now() + interval '1 year')
    returning id`.execute(db);
  const id = rows[0]!.id;
  for (let start = 1; start <= recipients; start += 200_000) {
    const end = Math.min(recipients, start + 199_999);
    await sql`
      insert into campaign_recipients (campaign_id, recipient_id, address, variables)
      select ${id}, 'r' || lpad(i::text, 9, '0'), 'user' || i || '@example.test', jsonb_build_object('name', 'User ' || i, 'code', i)
      from generate_series(${start}::int, ${end}::int) as i`.execute(db);
  }
  return id;
}

/** The activity's work, batch after batch, in this process: same queries, same chunked ledger writes. */
async function plainLoop(db: Kysely<Database>, campaignId: string, settings: ReturnType<typeof testConfig>['campaigns']) {
  const logger = createLogger(testConfig(env), 'bench');
  const channel = createLogChannel(logger);
  const claimToken = 'plain-loop';
  const claim = await claimCampaign(db, campaignId, claimToken);
  if (claim.outcome !== 'claimed') throw new Error(`plain loop could not claim its campaign: ${claim.outcome}`);
  const retry = { maxAttempts: settings.maxAttempts, retryDelayMs: settings.retryDelayMs, retryMaxDelayMs: settings.retryMaxDelayMs };
  let cursor: string | null = null;
  for (let batch = 1; ; batch += 1) {
    const lease = `plain/${batch}`;
    const held = await takeLease(db, campaignId, claimToken, lease);
    if (!held) throw new Error('plain loop lost its claim');
    const rows = await selectDueRecipients(db, campaignId, cursor, settings.batchSize);
    const writer: LedgerWriter = new LedgerWriter(rows, cursor, (outcomes) => recordOutcomes(db, { campaignId, lease, channel: 'log', retry }, outcomes), {
      chunkSize: Math.min(settings.batchSize, 500),
      maxDelayMs: 250,
    });
    await sendBatchInOrder({
      recipients: rows,
      concurrency: settings.sendConcurrency,
      pacer: new Pacer(null, null),
      deadline: Date.now() + settings.batchMaxMs,
      shouldStop: () => false,
      deliver: createRecipientDelivery(held.campaign, channel),
      writer,
    });
    if (writer.error) throw writer.error;
    cursor = writer.cursor;
    if (rows.length < settings.batchSize && writer.isComplete) break;
  }
  const done = await completeCampaign(db, campaignId, claimToken);
  if (!done.finished || done.counts.sent !== recipients) throw new Error(`plain loop sent ${done.counts.sent} of ${recipients}`);
}

function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

async function hasPollers(temporal: TestTemporal): Promise<boolean> {
  const { pollers } = await temporal.client.workflowService.describeTaskQueue({
    namespace: temporal.namespace,
    taskQueue: { name: TASK_QUEUES.campaigns },
    taskQueueType: 2, // activity
  });
  return (pollers?.length ?? 0) > 0;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

async function main() {
  const [temporal, database, bundle] = await Promise.all([startTestTemporal(), createTestDatabase(), prebuiltWorkflowBundle()]);
  const config = testConfig({ ...env, DATABASE_URL: database.url, TEMPORAL_ADDRESS: temporal.address });
  const settings = config.campaigns;
  const worker = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src', 'workers', 'worker.ts')], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env, DATABASE_URL: database.url, TEMPORAL_ADDRESS: temporal.address, WORKFLOW_BUNDLE_PATH: bundle },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const stopWorker = () => worker.exitCode === null && worker.kill('SIGKILL');
  process.once('exit', stopWorker);
  try {
    await waitFor(() => hasPollers(temporal), { timeoutMs: 120_000, message: 'the worker to poll' });
    const idle = memoryOf(worker.pid!);
    const timings = { plain: [] as number[], workflow: [] as number[] };
    let last: { result: CampaignResult; campaignId: string } | undefined;
    let rssCurve: number[] = [];
    for (let round = 1; round <= rounds; round += 1) {
      console.log(`round ${round}/${rounds}: seeding 2 x ${recipients} recipients...`);
      const plainCampaign = await seedCampaign(database.db, 'bench plain loop');
      const workflowCampaign = await seedCampaign(database.db, 'bench workflow');
      await sql`vacuum analyze campaign_recipients`.execute(database.db);
      const runPlain = async () => {
        const startedAt = performance.now();
        await plainLoop(database.db, plainCampaign, settings);
        timings.plain.push((performance.now() - startedAt) / 1000);
      };
      const runWorkflow = async () => {
        const startedAt = performance.now();
        // The worker's RSS through the campaign: flat means nothing grows with the number of recipients.
        const samples: number[] = [];
        const sampler = setInterval(() => samples.push(memoryOf(worker.pid!).rss), 250);
        await startCampaignWorkflow(temporal.client, workflowCampaign);
        const result: CampaignResult = await temporal.client.workflow.getHandle(campaignWorkflowId(workflowCampaign)).result();
        clearInterval(sampler);
        rssCurve = [1, 2, 3, 4].map((quarter) => samples[Math.min(samples.length - 1, Math.floor((samples.length * quarter) / 4) - 1)] ?? 0);
        timings.workflow.push((performance.now() - startedAt) / 1000);
        if (result.sent !== recipients) throw new Error(`the workflow sent ${result.sent} of ${recipients}`);
        last = { result, campaignId: workflowCampaign };
      };
      // Alternating which goes first, so neither always meets a freshly vacuumed table or a warm cache.
      for (const run of round % 2 === 1 ? [runPlain, runWorkflow] : [runWorkflow, runPlain]) {
        await run();
        await sql`vacuum analyze campaign_recipients`.execute(database.db);
      }
      if (round < rounds) {
        await sql`delete from notification_campaigns where id in (${plainCampaign}, ${workflowCampaign})`.execute(database.db);
        await sql`vacuum analyze campaign_recipients`.execute(database.db);
      }
    }
    const memory = memoryOf(worker.pid!);
    const { result, campaignId } = last!;

    const runs: number[] = [];
    // Where a batch's time goes: the activity (pick-up included: its Started event is written with its
    // completion), and between one batch's completion and the next one's scheduling (the workflow task).
    const phases = { activity: 0, between: 0, batches: 0 };
    for await (const execution of temporal.client.workflow.list({ query: `WorkflowId = '${campaignWorkflowId(campaignId)}'` })) {
      const history = await temporal.client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
      const events = history.events ?? [];
      runs.push(events.length);
      const at = (event: (typeof events)[number]) => Number(event.eventTime?.seconds ?? 0) * 1000 + (event.eventTime?.nanos ?? 0) / 1e6;
      let scheduled = 0;
      let completed = 0;
      for (const event of events) {
        if (event.activityTaskScheduledEventAttributes?.activityType?.name === 'sendBatch') {
          if (completed) phases.between += at(event) - completed;
          scheduled = at(event);
        } else if (event.activityTaskCompletedEventAttributes && scheduled) {
          completed = at(event);
          phases.activity += completed - scheduled;
          phases.batches += 1;
          scheduled = 0;
        }
      }
    }

    const best = (values: number[]) => Math.min(...values);
    const workflowRate = recipients / best(timings.workflow);
    const plainRate = recipients / best(timings.plain);
    const seconds = (values: number[]) => values.map((value) => value.toFixed(1)).join(' / ');
    const rows: Array<[string, string]> = [
      ['recipients', `${recipients} (log channel, batch size ${settings.batchSize}, send concurrency ${settings.sendConcurrency}, best of ${rounds} round(s))`],
      ['end to end (Temporal)', `${workflowRate.toFixed(0)} recipients/s (${seconds(timings.workflow)} s, ${result.batches} batches)`],
      ['plain loop (no Temporal)', `${plainRate.toFixed(0)} recipients/s (${seconds(timings.plain)} s)`],
      ['ratio', (workflowRate / plainRate).toFixed(2)],
      ['history events per run', `max ${Math.max(...runs)}, mean ${(runs.reduce((a, b) => a + b, 0) / runs.length).toFixed(0)} over ${runs.length} run(s)`],
      ['per batch (ms)', `${(phases.activity / phases.batches).toFixed(1)} in the activity, ${(phases.between / phases.batches).toFixed(1)} between batches`],
      ['worker peak RSS', `${mb(memory.peak)} (idle before the campaigns: ${mb(idle.rss)}, at the end: ${mb(memory.rss)})`],
      ['worker RSS, last campaign', `${rssCurve.map(mb).join(' / ')} at 1/4, 1/2, 3/4 and the end`],
    ];
    for (const [label, value] of rows) console.log(`${label.padEnd(26)}${value}`);
  } finally {
    stopWorker();
    await temporal.stop();
    await database.drop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
