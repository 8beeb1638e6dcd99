// No Docker engine runs the stack in CI, so this checks the compose file agrees with the code instead.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config';

const ROOT = path.join(__dirname, '..', '..');

interface ComposeService {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  depends_on?: Record<string, unknown>;
}

const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, ComposeService> };
const services = compose.services;

const publishedPorts = (service: ComposeService) => (service.ports ?? []).map((mapping) => Number(mapping.split(':').pop()));
const hostOf = (url: string) => new URL(url).hostname;

describe('docker-compose.yml', () => {
  it('has the whole production-like stack', () => {
    assert.deepEqual(Object.keys(services).sort(), ['bridge', 'postgres', 'rabbitmq', 'temporal', 'temporal-ui', 'worker']);
    assert.match(services.rabbitmq!.image!, /management/, 'RabbitMQ comes with its management UI');
    assert.ok(publishedPorts(services.rabbitmq!).includes(15672));
    assert.ok(publishedPorts(services['temporal-ui']!).includes(8080));
    assert.equal(services.temporal!.environment?.DB, 'postgres12', 'Temporal persists to PostgreSQL');
    assert.equal(services.temporal!.environment?.POSTGRES_SEEDS, 'postgres');
  });

  for (const name of ['worker', 'bridge']) {
    it(`${name}: is built from the Dockerfile and runs its entry point`, () => {
      const service = services[name]!;
      assert.equal(service.build, '.');
      assert.ok(existsSync(path.join(ROOT, 'Dockerfile')));
      const entry = service.command?.find((part) => part.startsWith('src/'));
      assert.ok(entry && existsSync(path.join(ROOT, entry)), `${name} entry point ${entry} exists`);
    });

    it(`${name}: its environment is valid configuration pointing at the compose services`, () => {
      const environment = services[name]!.environment ?? {};
      for (const variable of Object.keys(environment)) assert.ok(CONFIG_VARIABLES.includes(variable), `${variable} is a variable the service reads`);
      const config = loadConfig(environment);
      const [temporalHost, temporalPort] = config.temporal.address.split(':');
      assert.ok(services[temporalHost!], `TEMPORAL_ADDRESS names the ${temporalHost} service`);
      assert.ok(publishedPorts(services[temporalHost!]!).includes(Number(temporalPort)));
      assert.ok(services[hostOf(config.databaseUrl)], 'DATABASE_URL names a compose service');
      assert.ok(services[hostOf(config.amqpUrl)], 'AMQP_URL names a compose service');
      assert.ok(publishedPorts(services[hostOf(config.databaseUrl)]!).includes(Number(new URL(config.databaseUrl).port || 5432)));
      assert.ok(publishedPorts(services[hostOf(config.amqpUrl)]!).includes(Number(new URL(config.amqpUrl).port || 5672)));
      for (const dependency of Object.keys(services[name]!.depends_on ?? {})) assert.ok(services[dependency], `${dependency} exists`);
    });
  }

  it('worker: publishes its metrics port', () => {
    const config = loadConfig(services.worker!.environment ?? {});
    assert.ok(config.metricsAddress, 'METRICS_ADDRESS is set');
    assert.ok(publishedPorts(services.worker!).includes(Number(config.metricsAddress!.split(':').pop())));
  });
});
