// What every campaign test file needs: its own Temporal dev server, database, SMTP and HTTP sinks, a
// worker (in process, or as child processes for kill tests), and functions that write and read campaigns.
import { NativeConnection } from '@temporalio/worker';
import { sql, type Kysely } from 'kysely';
import { closeChannels, createChannels, type Channels } from '../../src/channels';
import type { Config } from '../../src/config';
import type { CampaignStatus, Channel, Database } from '../../src/db/schema';
import { createLogger } from '../../src/logger';
import { TASK_QUEUES } from '../../src/temporal/task-queues';
import { installRuntime } from '../../src/workers/runtime';
import { startWorkers, type RunningWorkers } from '../../src/workers/worker';
import type { CampaignResult } from '../../src/workflows/campaign-types';
import { loadWorkflowBundle } from '../../src/workers/workflow-bundle';
import { testConfig } from '../support/config';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { startHttpSink, type HttpSink } from '../support/http-sink';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { startTestTemporal, type TestTemporal } from '../support/temporal';
import { waitFor } from '../support/wait';
import { prebuiltWorkflowBundle } from '../support/worker-process';

export const SIGNING_SECRET = 'test-signing-secret-0123456789';

export interface CampaignHarness {
  temporal: TestTemporal;
  database: TestDatabase;
  db: Kysely<Database>;
  smtp: SmtpSink;
  http: HttpSink;
  config: Config;
  /** The environment a worker child process needs to join this harness. */
  workerEnv: Record<string, string>;
  startWorker(): Promise<RunningWorkers>;
  stop(): Promise<void>;
}

export async function startCampaignHarness(env: Record<string, string> = {}): Promise<CampaignHarness> {
  const [temporal, database, smtp, http, bundlePath] = await Promise.all([
    startTestTemporal(),
    createTestDatabase(),
    startSmtpSink(),
    startHttpSink({ signingSecret: SIGNING_SECRET }),
    prebuiltWorkflowBundle(),
  ]);
  const workerEnv: Record<string, string> = {
    TEMPORAL_ADDRESS: temporal.address,
    DATABASE_URL: database.url,
    SMTP_URL: smtp.url,
    WEBHOOK_SIGNING_SECRET: SIGNING_SECRET,
    WORKFLOW_BUNDLE_PATH: bundlePath,
    CAMPAIGN_RETRY_DELAY_MS: '300',
    CAMPAIGN_RETRY_MAX_DELAY_MS: '2000',
    LOG_LEVEL: 'warn',
    ...env,
  };
  const config = testConfig(workerEnv);
  const logger = createLogger(config, 'campaign-test');
  const workers: RunningWorkers[] = [];
  const opened: Array<{ connection: NativeConnection; channels: Channels }> = [];

  return {
    temporal,
    database,
    db: database.db,
    smtp,
    http,
    config,
    workerEnv,
    async startWorker() {
      // Once per test process, and only with an in-process worker (an idle runtime would keep the process
      // alive): SDK logs through pino at LOG_LEVEL, metrics on METRICS_ADDRESS when given.
      installRuntime(config, logger);
      const connection = await NativeConnection.connect({ address: temporal.address });
      const channels = createChannels(config, logger);
      opened.push({ connection, channels });
      const running = await startWorkers({
        config,
        logger,
        db: database.db,
        channels,
        client: temporal.client,
        connection,
        workflowBundle: await loadWorkflowBundle(bundlePath),
        taskQueues: [TASK_QUEUES.campaigns],
      });
      workers.push(running);
      return running;
    },
    async stop() {
      await Promise.allSettled(workers.map((worker) => worker.shutdown()));
      await Promise.allSettled(opened.flatMap(({ connection, channels }) => [connection.close(), closeChannels(channels)]));
      await Promise.allSettled([temporal.stop(), smtp.stop(), http.stop()]);
      await database.drop();
    },
  };
}

export interface TestRecipient {
  id: string;
  address: string;
  variables?: Record<string, unknown>;
}

export interface TestCampaign {
  name?: string;
  channel: Channel;
  subject?: string | null;
  body: string;
  status?: CampaignStatus;
  /** Defaults to a minute ago (due). */
  scheduledAt?: Date;
  ratePerSecond?: number | null;
  recipients: TestRecipient[];
}

/** Writes a campaign and its recipients with plain SQL, as another service would. */
export async function insertCampaign(db: Kysely<Database>, campaign: TestCampaign): Promise<string> {
  const { rows } = await sql<{ id: string }>`
    insert into notification_campaigns (name, channel, subject, body, status, scheduled_at, rate_per_second)
    values (${campaign.name ?? 'test campaign'}, ${campaign.channel}, ${campaign.subject ?? null}, ${campaign.body},
            ${campaign.status ?? 'scheduled'}, ${campaign.scheduledAt ?? new Date(Date.now() - 60_000)}, ${campaign.ratePerSecond ?? null})
    returning id`.execute(db);
  const id = rows[0]!.id;
  for (let start = 0; start < campaign.recipients.length; start += 5_000) {
    const chunk = campaign.recipients.slice(start, start + 5_000);
    await sql`
      insert into campaign_recipients (campaign_id, recipient_id, address, variables)
      select ${id}, r.id, r.address, r.variables::jsonb
      from unnest(${chunk.map((r) => r.id)}::text[], ${chunk.map((r) => r.address)}::text[], ${chunk.map((r) => JSON.stringify(r.variables ?? {}))}::text[])
        as r(id, address, variables)`.execute(db);
  }
  return id;
}

/** `count` webhook recipients r00001, r00002, ... pointed at the sink, each with a `name` variable. */
export function webhookRecipients(http: HttpSink, count: number, prefix = 'r'): TestRecipient[] {
  return Array.from({ length: count }, (_, index) => {
    const id = `${prefix}${String(index + 1).padStart(5, '0')}`;
    return { id, address: http.urlFor(id), variables: { name: `Person ${index + 1}` } };
  });
}

export interface LedgerState {
  status: CampaignStatus;
  failureReason: string | null;
  pending: number;
  sent: number;
  failed: number;
  /** The counters kept beside the ledger. */
  progress: { total: number; sent: number; failed: number } | undefined;
}

export async function readLedger(db: Kysely<Database>, campaignId: string): Promise<LedgerState> {
  const campaign = await db.selectFrom('notification_campaigns').select(['status', 'failure_reason']).where('id', '=', campaignId).executeTakeFirstOrThrow();
  const { rows } = await sql<{ status: string; count: number }>`
    select status, count(*)::int as count from campaign_recipients where campaign_id = ${campaignId} group by status`.execute(db);
  const byStatus = Object.fromEntries(rows.map((row) => [row.status, row.count]));
  const progress = await db.selectFrom('campaign_progress').select(['total', 'sent', 'failed']).where('campaign_id', '=', campaignId).executeTakeFirst();
  return {
    status: campaign.status,
    failureReason: campaign.failure_reason,
    pending: byStatus.pending ?? 0,
    sent: byStatus.sent ?? 0,
    failed: byStatus.failed ?? 0,
    progress,
  };
}

export async function waitForStatus(db: Kysely<Database>, campaignId: string, statuses: CampaignStatus[], timeoutMs = 120_000): Promise<LedgerState> {
  return waitFor(
    async () => {
      const state = await readLedger(db, campaignId);
      return statuses.includes(state.status) ? state : undefined;
    },
    { timeoutMs, intervalMs: 200, message: `campaign ${campaignId} to be ${statuses.join(' or ')}` },
  );
}

/** Checks that `probe` stays true for `durationMs`: for asserting that something does NOT happen. */
export async function staysTrue(probe: () => Promise<boolean> | boolean, durationMs: number, message: string): Promise<void> {
  const deadline = Date.now() + durationMs;
  while (Date.now() < deadline) {
    if (!(await probe())) throw new Error(`Expected ${message} for ${durationMs} ms, but it changed`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A workflow's result, or a clear failure after `timeoutMs` instead of a test that hangs. */
export async function resultWithin<T = CampaignResult>(handle: { workflowId: string; result(): Promise<unknown> }, timeoutMs = 180_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${handle.workflowId} to close`)), timeoutMs);
  });
  try {
    return (await Promise.race([handle.result(), timeout])) as T;
  } finally {
    clearTimeout(timer);
  }
}
