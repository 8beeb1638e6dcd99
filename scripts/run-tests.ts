// `npm test`: every test file under test/ (or those named on the command line) through Node's test runner.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

function testFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const file = path.join(dir, name);
      if (statSync(file).isDirectory()) return name === 'support' ? [] : testFiles(file);
      return name.endsWith('.test.ts') ? [file] : [];
    });
}

const requested = process.argv.slice(2);
const files = requested.length > 0 ? requested.flatMap((target) => (statSync(target).isDirectory() ? testFiles(target) : [target])) : testFiles('test');
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}

const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`, ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
