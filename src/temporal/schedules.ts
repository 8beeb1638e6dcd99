// The schedules that start the service's periodic workflows, created or updated at start-up.
import { createHash } from 'node:crypto';
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptions,
} from '@temporalio/client';
import type { Config } from '../config';
import { TASK_QUEUES } from './task-queues';

export const SCHEDULE_IDS = {
  retention: 'data-retention',
  campaignDispatcher: 'campaign-dispatcher',
} as const;

export function scheduleDefinitions(config: Pick<Config, 'retention'>): ScheduleOptions[] {
  return [
    {
      scheduleId: SCHEDULE_IDS.retention,
      spec: {
        calendars: [{ hour: 2, minute: 0, comment: 'daily at 02:00' }],
        timezone: config.retention.timeZone,
      },
      action: {
        type: 'startWorkflow',
        workflowType: 'retentionWorkflow',
        workflowId: 'data-retention-run',
        taskQueue: TASK_QUEUES.maintenance,
        args: [{ dryRun: false }],
        workflowExecutionTimeout: '23 hours',
      },
      policies: {
        // A run still going at the next 02:00 (or a DST repeat of 02:00) is not doubled.
        overlap: ScheduleOverlapPolicy.SKIP,
        catchupWindow: config.retention.catchupWindow,
        pauseOnFailure: false,
      },
    },
    {
      scheduleId: SCHEDULE_IDS.campaignDispatcher,
      spec: { intervals: [{ every: '1 minute' }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'campaignDispatcherWorkflow',
        workflowId: 'campaign-dispatcher-run',
        taskQueue: TASK_QUEUES.campaigns,
        args: [],
        workflowExecutionTimeout: '5 minutes',
      },
      policies: {
        overlap: ScheduleOverlapPolicy.SKIP,
        // A missed minute is not worth catching up beyond the next run: the next one finds the same due campaigns.
        catchupWindow: '2 minutes',
        pauseOnFailure: false,
      },
    },
  ];
}

function fingerprint(options: ScheduleOptions): string {
  return createHash('sha256').update(JSON.stringify([options.spec, options.action, options.policies])).digest('hex').slice(0, 16);
}

export type ScheduleChange = 'created' | 'updated' | 'unchanged';

/** Idempotent: a second call with the same configuration changes nothing. */
export async function ensureSchedules(client: Client, config: Pick<Config, 'retention'>): Promise<Record<string, ScheduleChange>> {
  const changes: Record<string, ScheduleChange> = {};
  for (const definition of scheduleDefinitions(config)) {
    const wanted = fingerprint(definition);
    // The fingerprint rides in the action's memo, which (unlike the schedule's memo) an update can change.
    const action = { ...definition.action, memo: { scheduleDefinition: wanted } } as ScheduleOptions['action'];
    try {
      await client.schedule.create({ ...definition, action });
      changes[definition.scheduleId] = 'created';
      continue;
    } catch (error) {
      if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    }
    const handle = client.schedule.getHandle(definition.scheduleId);
    let current: string | undefined;
    try {
      const described = (await handle.describe()).action as { memo?: Record<string, unknown> };
      current = described.memo?.scheduleDefinition as string | undefined;
    } catch (error) {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
    }
    if (current === wanted) {
      changes[definition.scheduleId] = 'unchanged';
      continue;
    }
    await handle.update((previous) => ({
      ...previous,
      spec: definition.spec,
      action,
      policies: { ...previous.policies, ...definition.policies },
    }) as never);
    changes[definition.scheduleId] = 'updated';
  }
  return changes;
}
