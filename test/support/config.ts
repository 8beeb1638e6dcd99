import { loadConfig, type Config } from '../../src/config';

/** A Config as the service would parse it, from test-specific environment values. */
export function testConfig(env: Record<string, string | undefined>): Config {
  return loadConfig({ LOG_LEVEL: 'warn', ...env });
}
