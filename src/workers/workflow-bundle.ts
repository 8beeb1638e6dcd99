// The workflow bundle: built once per process, or read from WORKFLOW_BUNDLE_PATH when prebuilt.
import { existsSync, readFileSync } from 'node:fs';
import { bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';

export const WORKFLOWS_PATH = require.resolve('../workflows');

export async function loadWorkflowBundle(prebuiltPath?: string): Promise<WorkflowBundle> {
  if (prebuiltPath && existsSync(prebuiltPath)) return { code: readFileSync(prebuiltPath, 'utf8') };
  return bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: silentLogger });
}

const ignore = () => undefined;
const silentLogger = { log: ignore, trace: ignore, debug: ignore, info: ignore, warn: ignore, error: ignore };
