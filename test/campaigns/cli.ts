// Runs the operator CLI as a real child process, as an operator would.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/temporal/cli-binary';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCampaignsCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(PROJECT_ROOT, 'src', 'cli', 'campaigns.ts'), ...args],
      { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, timeout: 90_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
