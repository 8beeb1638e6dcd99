// The statistics operators used to get from the old service, gathered from Temporal, PostgreSQL and RabbitMQ.
// Each section is collected on its own and bounded in time: one unreachable dependency leaves its section
// empty with an error, and the rest is still reported.
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { sql, type Kysely } from 'kysely';
import type { ChannelModel } from 'amqplib';
import { connectAmqp } from '../bridge/connection';
import { TOPOLOGY } from '../bridge/topology';
import type { Config } from '../config';
import type { CampaignStatus, Database, DeadLetterSource } from '../db/schema';
import { TASK_QUEUES } from '../temporal/task-queues';
import { scrubCredentials } from './personal-data';
import { withTimeout } from './readiness';

/** The workflow types this service runs. */
export const WORKFLOW_TYPES = ['campaignWorkflow', 'campaignDispatcherWorkflow', 'eventNotificationWorkflow', 'retentionWorkflow'] as const;

export type QueueRole = 'work' | 'retry' | 'dead-letter';

export const RABBITMQ_QUEUES: Array<{ name: string; role: QueueRole }> = [
  { name: TOPOLOGY.workQueue, role: 'work' },
  { name: TOPOLOGY.retryQueue, role: 'retry' },
  { name: TOPOLOGY.deadLetterQueue, role: 'dead-letter' },
];

const DEAD_LETTER_SOURCES: DeadLetterSource[] = ['campaign', 'notification', 'bridge'];

export interface TaskStatistics {
  /** Tasks waiting for a worker. */
  backlog: number;
  /** Age of the oldest waiting task. */
  backlogAgeSeconds: number;
  /** Workers that polled recently, by identity. */
  pollers: string[];
  tasksAddedPerSecond: number;
  tasksDispatchedPerSecond: number;
}

export interface TaskQueueStatistics {
  name: string;
  workflowTasks: TaskStatistics;
  activityTasks: TaskStatistics;
}

export interface WorkflowCount {
  type: string;
  /** Running, Completed, Failed, Canceled, Terminated, ContinuedAsNew, TimedOut. */
  status: string;
  count: number;
}

export interface CampaignProgress {
  id: string;
  name: string;
  status: CampaignStatus;
  channel: string;
  total: number;
  sent: number;
  failed: number;
  pending: number;
  /** sent + failed over total, 0 to 100. */
  percentDone: number;
  ratePerSecond: number | null;
  startedAt: string | null;
}

export interface DeadLetterCount {
  source: DeadLetterSource;
  total: number;
  /** Not re-driven yet. */
  waiting: number;
}

export interface QueueDepth {
  name: string;
  role: QueueRole;
  messages: number | null;
  consumers: number | null;
  error?: string;
}

export interface Statistics {
  generatedAt: string;
  taskQueues: TaskQueueStatistics[] | null;
  workflows: WorkflowCount[] | null;
  campaigns: CampaignProgress[] | null;
  deadLetters: DeadLetterCount[] | null;
  queues: QueueDepth[] | null;
  /** Why a section is null. */
  errors: Partial<Record<Section, string>>;
}

type Section = 'taskQueues' | 'workflows' | 'campaigns' | 'deadLetters' | 'queues';

const SECTION_SOURCES: Record<Section, string> = {
  taskQueues: 'Temporal',
  workflows: 'Temporal',
  campaigns: 'PostgreSQL',
  deadLetters: 'PostgreSQL',
  queues: 'RabbitMQ',
};

export interface StatisticsSources {
  /** Best without the SDK's retrying interceptor (see operationsClient): a call given up on should stop. */
  client: Client;
  namespace: string;
  db: Kysely<Database>;
  /** For a connection of its own to RabbitMQ; omitted: no queue depths. */
  amqp?: Pick<Config, 'amqpUrl' | 'bridge'>;
  /** Bound for each section. */
  timeoutMs: number;
  taskQueues?: string[];
  workflowTypes?: readonly string[];
  queues?: Array<{ name: string; role: QueueRole }>;
}

const { TaskQueueKind, TaskQueueType } = temporal.api.enums.v1;

async function describeTasks(client: Client, namespace: string, taskQueue: string, type: temporal.api.enums.v1.TaskQueueType, deadline: number): Promise<TaskStatistics> {
  const response = await client.connection.withDeadline(deadline, () =>
    client.workflowService.describeTaskQueue({
      namespace,
      taskQueue: { name: taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType: type,
      reportStats: true,
    }),
  );
  const stats = response.stats;
  const age = stats?.approximateBacklogAge;
  return {
    backlog: Number(stats?.approximateBacklogCount ?? 0),
    backlogAgeSeconds: Math.round((Number(age?.seconds ?? 0) + (age?.nanos ?? 0) / 1e9) * 10) / 10,
    pollers: response.pollers.map((poller) => poller.identity ?? 'unknown'),
    tasksAddedPerSecond: round(stats?.tasksAddRate ?? 0),
    tasksDispatchedPerSecond: round(stats?.tasksDispatchRate ?? 0),
  };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

export async function collectTaskQueues(sources: StatisticsSources): Promise<TaskQueueStatistics[]> {
  const deadline = Date.now() + sources.timeoutMs;
  const names = sources.taskQueues ?? Object.values(TASK_QUEUES);
  return Promise.all(
    names.map(async (name) => {
      const [workflowTasks, activityTasks] = await Promise.all([
        describeTasks(sources.client, sources.namespace, name, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, deadline),
        describeTasks(sources.client, sources.namespace, name, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY, deadline),
      ]);
      return { name, workflowTasks, activityTasks };
    }),
  );
}

function payloadText(payload: temporal.api.common.v1.IPayload | undefined): string {
  if (!payload?.data) return 'unknown';
  const text = Buffer.from(payload.data).toString('utf8');
  try {
    return String(JSON.parse(text));
  } catch {
    return text;
  }
}

export async function collectWorkflowCounts(sources: StatisticsSources): Promise<WorkflowCount[]> {
  const deadline = Date.now() + sources.timeoutMs;
  const perType = await Promise.all(
    (sources.workflowTypes ?? WORKFLOW_TYPES).map(async (type) => {
      const response = await sources.client.connection.withDeadline(deadline, () =>
        sources.client.workflowService.countWorkflowExecutions({
          namespace: sources.namespace,
          query: `WorkflowType = '${type.replaceAll("'", '')}' GROUP BY ExecutionStatus`,
        }),
      );
      return response.groups.map((group) => ({ type, status: payloadText(group.groupValues?.[0] ?? undefined), count: Number(group.count ?? 0) }));
    }),
  );
  return perType.flat().filter((row) => row.count > 0);
}

export async function collectCampaigns(sources: StatisticsSources): Promise<CampaignProgress[]> {
  const rows = await sources.db
    .selectFrom('notification_campaigns as c')
    .leftJoin('campaign_recipients as r', 'r.campaign_id', 'c.id')
    .select([
      'c.id',
      'c.name',
      'c.status',
      'c.channel',
      'c.rate_per_second',
      'c.started_at',
      sql<number>`count(r.recipient_id)`.as('total'),
      sql<number>`count(r.recipient_id) filter (where r.status = 'sent')`.as('sent'),
      sql<number>`count(r.recipient_id) filter (where r.status = 'failed')`.as('failed'),
    ])
    .where('c.status', 'in', ['processing', 'paused'])
    .groupBy('c.id')
    .orderBy('c.started_at')
    .execute();
  return rows.map((row) => {
    const total = Number(row.total);
    const sent = Number(row.sent);
    const failed = Number(row.failed);
    return {
      id: row.id,
      name: row.name,
      status: row.status,
      channel: row.channel,
      total,
      sent,
      failed,
      pending: total - sent - failed,
      percentDone: total === 0 ? 0 : Math.floor(((sent + failed) / total) * 1000) / 10,
      ratePerSecond: row.rate_per_second,
      startedAt: row.started_at ? new Date(row.started_at).toISOString() : null,
    };
  });
}

export async function collectDeadLetters(sources: StatisticsSources): Promise<DeadLetterCount[]> {
  const rows = await sources.db
    .selectFrom('dead_letters')
    .select(['source', sql<number>`count(*)`.as('total'), sql<number>`count(*) filter (where redriven_at is null)`.as('waiting')])
    .groupBy('source')
    .execute();
  return DEAD_LETTER_SOURCES.map((source) => {
    const row = rows.find((candidate) => candidate.source === source);
    return { source, total: Number(row?.total ?? 0), waiting: Number(row?.waiting ?? 0) };
  });
}

export async function collectQueueDepths(sources: StatisticsSources): Promise<QueueDepth[]> {
  if (!sources.amqp) return [];
  const connecting = connectAmqp(sources.amqp, { connectionName: 'notification-jobs statistics', timeoutMs: sources.timeoutMs });
  let connection: ChannelModel | undefined;
  try {
    connection = await connecting;
    connection.on('error', () => undefined);
    const depths: QueueDepth[] = [];
    for (const queue of sources.queues ?? RABBITMQ_QUEUES) {
      // A missing queue closes the channel it was checked on, so each check gets its own.
      const channel = await connection.createChannel();
      channel.on('error', () => undefined);
      try {
        const { messageCount, consumerCount } = await channel.checkQueue(queue.name);
        depths.push({ ...queue, messages: messageCount, consumers: consumerCount });
        await channel.close();
      } catch (error) {
        const notFound = /NOT_FOUND|404/.test((error as Error).message);
        depths.push({ ...queue, messages: null, consumers: null, error: notFound ? 'queue does not exist yet (the bridge declares it at start-up)' : (error as Error).message });
      }
    }
    return depths;
  } finally {
    if (connection) await connection.close().catch(() => undefined);
    // Opened after the bound: closed when it arrives.
    else connecting.then((late) => late.close()).catch(() => undefined);
  }
}

export async function collectStatistics(sources: StatisticsSources): Promise<Statistics> {
  const errors: Statistics['errors'] = {};
  const section = async <T>(name: Section, collect: () => Promise<T>): Promise<T | null> => {
    const source = SECTION_SOURCES[name];
    try {
      return await withTimeout(collect(), sources.timeoutMs, source);
    } catch (error) {
      const message = scrubCredentials(error instanceof Error ? error.message : String(error));
      errors[name] = message.startsWith(source) ? message : `${source}: ${message}`;
      return null;
    }
  };
  const [taskQueues, workflows, campaigns, deadLetters, queues] = await Promise.all([
    section('taskQueues', () => collectTaskQueues(sources)),
    section('workflows', () => collectWorkflowCounts(sources)),
    section('campaigns', () => collectCampaigns(sources)),
    section('deadLetters', () => collectDeadLetters(sources)),
    section('queues', () => collectQueueDepths(sources)),
  ]);
  return { generatedAt: new Date().toISOString(), taskQueues, workflows, campaigns, deadLetters, queues, errors };
}
