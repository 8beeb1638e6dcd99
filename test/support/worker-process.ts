// Runs a service entry point (worker, bridge) as a real child process, so tests can SIGKILL or SIGTERM it.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/temporal/cli-binary';
import { loadWorkflowBundle } from '../../src/workers/workflow-bundle';
import { waitFor } from './wait';

export interface ServiceProcess {
  child: ChildProcess;
  /** Every line printed so far (stdout and stderr). */
  output: string[];
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

let bundlePath: Promise<string> | undefined;

/** The workflow bundle, built once per test process and shared by every worker it spawns. */
export function prebuiltWorkflowBundle(): Promise<string> {
  bundlePath ??= loadWorkflowBundle().then(({ code }) => {
    const file = path.join(tmpdir(), `notification-jobs-bundle-${process.pid}.js`);
    writeFileSync(file, code);
    return file;
  });
  return bundlePath;
}

export async function spawnService(
  entry: 'worker' | 'bridge' | 'start',
  env: Record<string, string | undefined>,
  readyPattern = /"msg":"worker started"/,
): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src', 'workers', `${entry}.ts`)], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  let partial = '';
  const collect = (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    output.push(...lines);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const service: ServiceProcess = {
    child,
    output,
    async waitForOutput(pattern, timeoutMs = 90_000) {
      return waitFor(
        () => {
          if (child.exitCode !== null) throw new Error(`${entry} exited with ${child.exitCode}:\n${output.slice(-20).join('\n')}`);
          return output.find((line) => pattern.test(line));
        },
        { timeoutMs, message: `${entry} to print ${pattern}` },
      );
    },
    async kill(signal = 'SIGTERM') {
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  await service.waitForOutput(readyPattern);
  return service;
}
