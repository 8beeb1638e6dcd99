// `npm run build:workflows -- <file>`: writes the workflow bundle once, for WORKFLOW_BUNDLE_PATH in production images.
import { writeFileSync } from 'node:fs';
import { loadWorkflowBundle } from '../src/workers/workflow-bundle';

const target = process.argv[2] ?? 'dist/workflow-bundle.js';
loadWorkflowBundle()
  .then(({ code }) => {
    writeFileSync(target, code);
    console.log(`workflow bundle written to ${target}`);
  })
  .catch((error) => {
    console.error(error);
    process.exit(1);
  });
