// Runs `temporal server start-dev`: the Temporal server with SQLite persistence and the Web UI.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { CUSTOM_SEARCH_ATTRIBUTES } from './search-attributes';

export interface DevServerOptions {
  binary: string;
  /** host:port of the frontend gRPC endpoint. */
  address: string;
  namespace: string;
  /** SQLite file; history survives restarts. Omitted: in memory. */
  databaseFile?: string;
  /** Web UI port; omitted: headless. */
  uiPort?: number;
  /** Remote codec endpoint the Web UI uses to show decoded payloads. */
  uiCodecEndpoint?: string;
  onOutput?: (line: string) => void;
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function isTemporalReachable(address: string, timeoutMs = 2_000): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: timeoutMs });
    await connection.healthService.check({});
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const [host, port] = splitAddress(options.address);
  const args = ['server', 'start-dev', '--ip', host, '--port', String(port), '--namespace', options.namespace, '--log-level', 'warn'];
  for (const attribute of CUSTOM_SEARCH_ATTRIBUTES) args.push('--search-attribute', `${attribute.name}=${attribute.type}`);
  if (options.databaseFile) {
    mkdirSync(path.dirname(options.databaseFile), { recursive: true });
    args.push('--db-filename', options.databaseFile);
  }
  if (options.uiPort) {
    args.push('--ui-port', String(options.uiPort));
    if (options.uiCodecEndpoint) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
  } else {
    args.push('--headless');
  }

  const child = spawn(options.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      output.push(line);
      if (output.length > 50) output.shift();
      options.onOutput?.(line);
    }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  const deadline = Date.now() + 60_000;
  while (!(await isTemporalReachable(options.address, 1_000))) {
    if (exited !== undefined) {
      throw new Error(`temporal server start-dev exited with code ${exited}: ${output.slice(-5).join(' | ')}`);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`temporal server start-dev did not answer on ${options.address} within 60 s: ${output.slice(-5).join(' | ')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  return {
    address: options.address,
    uiUrl: options.uiPort ? `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${options.uiPort}` : undefined,
    process: child,
    async stop() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

function splitAddress(address: string): [string, number] {
  const separator = address.lastIndexOf(':');
  return [address.slice(0, separator), Number(address.slice(separator + 1))];
}
