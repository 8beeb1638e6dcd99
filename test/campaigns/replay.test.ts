// Replays the recorded campaign and dispatcher histories (scripts/record-campaign-histories.ts) against
// today's workflow code, and checks they still cover what the campaign workflow can go through.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { prebuiltWorkflowBundle } from '../support/worker-process';

const HISTORIES = path.join(__dirname, '..', 'histories');

interface RecordedHistory {
  events: Array<{ eventType: string; workflowExecutionStartedEventAttributes?: { workflowType: { name: string } } }>;
}

const files = readdirSync(HISTORIES).filter((name) => /^(campaign|dispatcher).*\.json$/.test(name)).sort();
const load = (file: string): RecordedHistory => JSON.parse(readFileSync(path.join(HISTORIES, file), 'utf8'));

describe('recorded campaign histories', () => {
  it('cover both workflows: signals, update, retry timer, continue-as-new, cancellation, failure and a duplicate start', () => {
    const eventsOf = (file: string) => new Set(load(file).events.map((event) => event.eventType.replace(/^EVENT_TYPE_/, '')));
    const types = new Set(files.map((file) => load(file).events[0]?.workflowExecutionStartedEventAttributes?.workflowType.name));
    assert.deepEqual([...types].sort(), ['campaignDispatcherWorkflow', 'campaignWorkflow']);
    for (const expected of ['WORKFLOW_EXECUTION_SIGNALED', 'WORKFLOW_EXECUTION_UPDATE_COMPLETED', 'TIMER_STARTED', 'WORKFLOW_EXECUTION_COMPLETED']) {
      assert.ok(eventsOf('campaign-completed.json').has(expected), `campaign-completed has no ${expected}`);
    }
    assert.ok(eventsOf('campaign-continued-as-new.json').has('WORKFLOW_EXECUTION_CONTINUED_AS_NEW'));
    assert.ok(eventsOf('campaign-cancelled.json').has('WORKFLOW_EXECUTION_CANCELED'));
    assert.ok(eventsOf('campaign-failed.json').has('WORKFLOW_EXECUTION_FAILED'));
    assert.ok(eventsOf('campaign-not-claimed.json').has('WORKFLOW_EXECUTION_COMPLETED'));
  });

  it('replay deterministically against the current workflow code', async () => {
    const workflowBundle = { code: readFileSync(await prebuiltWorkflowBundle(), 'utf8') };
    const histories = files.map((file) => ({ workflowId: path.basename(file, '.json'), history: historyFromJSON(load(file)) }));
    let replayed = 0;
    for await (const result of Worker.runReplayHistories({ workflowBundle }, histories)) {
      assert.equal(result.error, undefined, `${result.workflowId}: ${result.error}`);
      replayed += 1;
    }
    assert.equal(replayed, files.length);
  });
});
