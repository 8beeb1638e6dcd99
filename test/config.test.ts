import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../src/config';

describe('configuration', () => {
  it('uses the documented defaults when nothing is set', () => {
    const config = loadConfig({});
    assert.equal(config.temporal.address, '127.0.0.1:7233');
    assert.equal(config.temporal.namespace, 'default');
    assert.equal(config.databaseUrl, 'postgres://postgres@127.0.0.1:5432/notifications');
    assert.equal(config.amqpUrl, 'amqp://guest:guest@127.0.0.1:5672');
    assert.equal(config.retention.timeZone, 'UTC');
    assert.equal(config.delivery.smtpUrl, undefined);
  });

  it('rejects a bad value with one line naming the variable', () => {
    assert.throws(() => loadConfig({ RETENTION_BATCH_SIZE: 'lots' }), (error: Error) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /^Invalid configuration: RETENTION_BATCH_SIZE /);
      assert.doesNotMatch(error.message, /\n/);
      return true;
    });
    assert.throws(() => loadConfig({ RETENTION_TIMEZONE: 'Mars/Olympus' }), /RETENTION_TIMEZONE must be an IANA time zone/);
    assert.throws(() => loadConfig({ TEMPORAL_ADDRESS: 'localhost' }), /TEMPORAL_ADDRESS must be host:port/);
    assert.throws(() => loadConfig({ AMQP_URL: 'http://x' }), /AMQP_URL must be a URL starting with amqp:/);
  });

  it('never echoes a secret-bearing value in the error', () => {
    assert.throws(() => loadConfig({ DATABASE_URL: 'mysql://user:hunter2@db/x' }), (error: Error) => {
      assert.doesNotMatch(error.message, /hunter2/);
      return true;
    });
  });

  it('stops the worker at start-up with that one line and a non-zero exit', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'src', 'workers', 'worker.ts')], {
      env: { ...process.env, CAMPAIGN_BATCH_SIZE: '-3' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(result.status, 1);
    assert.equal(result.stderr.trim(), 'Invalid configuration: CAMPAIGN_BATCH_SIZE must be greater than 0 (got "-3")');
  });
});
