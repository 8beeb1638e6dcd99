// Replays every recorded history in test/histories against today's workflow code: a change that would
// break running workflows (non-determinism) fails here before it reaches a worker.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { prebuiltWorkflowBundle } from '../support/worker-process';

const HISTORIES = path.join(__dirname, '..', 'histories');

describe('recorded workflow histories replay deterministically', () => {
  const files = readdirSync(HISTORIES).filter((name) => name.endsWith('.json')).sort();

  it('has histories of every workflow type', () => {
    const types = new Set(
      files.map((file) => {
        const history = JSON.parse(readFileSync(path.join(HISTORIES, file), 'utf8'));
        return history.events[0].workflowExecutionStartedEventAttributes.workflowType.name as string;
      }),
    );
    assert.ok(types.has('retentionWorkflow'));
  });

  for (const file of files) {
    it(file, async () => {
      const history = historyFromJSON(JSON.parse(readFileSync(path.join(HISTORIES, file), 'utf8')));
      const workflowBundle = { code: readFileSync(await prebuiltWorkflowBundle(), 'utf8') };
      await Worker.runReplayHistory({ workflowBundle }, history, path.basename(file, '.json'));
    });
  }
});
