// Every path through eventNotificationWorkflow, as recorded by scripts/record-event-histories.ts, still replays.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { prebuiltWorkflowBundle } from '../support/worker-process';

const HISTORIES = path.join(__dirname, '..', 'histories');

/** The recorded path, and the event that closes its history. */
const EXPECTED: Record<string, string> = {
  'event-notification-sent': 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED',
  'event-notification-already-sent': 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED',
  'event-notification-reminder-timer': 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED',
  'event-notification-reminder-cancelled': 'EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED',
  'event-notification-dead-lettered': 'EVENT_TYPE_WORKFLOW_EXECUTION_FAILED',
};

interface HistoryJson {
  events: Array<{ eventType: string; timerStartedEventAttributes?: unknown; workflowExecutionStartedEventAttributes?: { workflowType: { name: string } } }>;
}

describe('eventNotificationWorkflow histories', () => {
  const recorded = readdirSync(HISTORIES)
    .filter((name) => name.startsWith('event-notification-') && name.endsWith('.json'))
    .map((name) => ({ workflowId: path.basename(name, '.json'), json: JSON.parse(readFileSync(path.join(HISTORIES, name), 'utf8')) as HistoryJson }));

  it('covers delivery, a duplicate, a reminder timer, a cancelled reminder and a dead letter', () => {
    assert.deepEqual(recorded.map((history) => history.workflowId).sort(), Object.keys(EXPECTED).sort());
    for (const { workflowId, json } of recorded) {
      assert.equal(json.events[0]?.workflowExecutionStartedEventAttributes?.workflowType.name, 'eventNotificationWorkflow');
      assert.equal(json.events.at(-1)?.eventType, EXPECTED[workflowId], workflowId);
    }
    const timers = recorded.filter(({ json }) => json.events.some((event) => event.timerStartedEventAttributes));
    assert.deepEqual(timers.map((history) => history.workflowId).sort(), ['event-notification-reminder-cancelled', 'event-notification-reminder-timer']);
  });

  it('replays every recorded history against the current workflow code', async () => {
    const workflowBundle = { code: readFileSync(await prebuiltWorkflowBundle(), 'utf8') };
    const histories = recorded.map(({ workflowId, json }) => ({ workflowId, history: historyFromJSON(json) }));
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle }, histories)) {
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    assert.deepEqual(failures, []);
  });
});
