// The workflow bundle: built once per process, or read from WORKFLOW_BUNDLE_PATH when prebuilt.
import { existsSync, readFileSync } from 'node:fs';
import { bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';

export const WORKFLOWS_PATH = require.resolve('../workflows');

export async function loadWorkflowBundle(prebuiltPath?: string): Promise<WorkflowBundle> {
  if (prebuiltPath) {
    // A path that is set but wrong is a deployment mistake: say so rather than quietly bundling.
    if (!existsSync(prebuiltPath)) throw new Error(`WORKFLOW_BUNDLE_PATH=${prebuiltPath}: no such file (build it with npm run build:workflows -- ${prebuiltPath})`);
    return { code: readFileSync(prebuiltPath, 'utf8') };
  }
  return bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: silentLogger });
}

const ignore = () => undefined;
const silentLogger = { log: ignore, trace: ignore, debug: ignore, info: ignore, warn: ignore, error: ignore };
