// `npm run build:workflows -- <file>`: writes the workflow bundle once, for WORKFLOW_BUNDLE_PATH in production images.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadWorkflowBundle } from '../src/workers/workflow-bundle';

const target = process.argv[2] ?? 'dist/workflow-bundle.js';
loadWorkflowBundle()
  .then(({ code }) => {
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, code);
    console.log(`workflow bundle written to ${target}`);
  })
  .catch((error) => {
    console.error(error);
    process.exit(1);
  });
