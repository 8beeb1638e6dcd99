// Operations configuration: encryption keys, codec server, and TLS / mTLS / API key for Temporal,
// PostgreSQL and RabbitMQ, checked where the options are built (no TLS servers needed).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { ConfigError, loadConfig } from '../../src/config';
import { amqpTlsOptions } from '../../src/ops/amqp-tls';
import { temporalConnectionOptions } from '../../src/temporal/connection';
import { createDataConverter } from '../../src/temporal/data-converter';

const dir = mkdtempSync(path.join(tmpdir(), 'nj-tls-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function pem(name: string, label: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, `-----BEGIN ${label}-----\n${randomBytes(48).toString('base64')}\n-----END ${label}-----\n`);
  return file;
}
const ca = pem('ca.pem', 'CERTIFICATE');
const cert = pem('client.pem', 'CERTIFICATE');
const key = pem('client.key', 'PRIVATE KEY');
const notPem = path.join(dir, 'notes.txt');
writeFileSync(notPem, 'hello');
const missing = path.join(dir, 'missing.pem');
const readPem = (file: string) => readFileSync(file, 'utf8');

const secret = () => randomBytes(32).toString('base64');

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.doesNotMatch(error.message, /\n/);
    return error.message;
  }
  assert.fail(`expected ${JSON.stringify(Object.keys(env))} to be rejected`);
}

describe('operations configuration', () => {
  it('has everything off by default: no encryption, no extra endpoints, plain connections', () => {
    const config = loadConfig({});
    assert.equal(config.payloadEncryption, undefined);
    assert.equal(createDataConverter(config), undefined);
    assert.equal(config.statsAddress, undefined);
    assert.equal(config.codecServer.address, undefined);
    assert.deepEqual(config.codecServer.allowedOrigins, ['http://127.0.0.1:8233', 'http://localhost:8233']);
    assert.equal(config.readinessTimeoutMs, 2000);
    assert.deepEqual(temporalConnectionOptions(config), { address: '127.0.0.1:7233' });
    assert.equal(config.databaseUrl, 'postgres://postgres@127.0.0.1:5432/notifications');
    assert.deepEqual(amqpTlsOptions(config), {});
  });

  it('reads the current key and the previous ones, and refuses to mix them up', () => {
    const current = secret();
    const old = secret();
    const config = loadConfig({ PAYLOAD_ENCRYPTION_KEY_ID: '2024-02', PAYLOAD_ENCRYPTION_KEY: current, PAYLOAD_ENCRYPTION_PREVIOUS_KEYS: `2024-01:${old}` });
    assert.equal(config.payloadEncryption?.currentKeyId, '2024-02');
    assert.deepEqual(Object.keys(config.payloadEncryption!.keys).sort(), ['2024-01', '2024-02']);
    assert.deepEqual(config.payloadEncryption!.keys['2024-01'], Buffer.from(old, 'base64'));
    assert.equal(createDataConverter(config)?.payloadCodecs?.length, 1);

    assert.match(configError({ PAYLOAD_ENCRYPTION_KEY: current }), /PAYLOAD_ENCRYPTION_KEY_ID and PAYLOAD_ENCRYPTION_KEY must be set together/);
    assert.match(
      configError({ PAYLOAD_ENCRYPTION_KEY_ID: 'a', PAYLOAD_ENCRYPTION_KEY: current, PAYLOAD_ENCRYPTION_PREVIOUS_KEYS: `a:${old}` }),
      /names key id "a", which is the current/,
    );
    assert.match(configError({ PAYLOAD_ENCRYPTION_KEY_ID: 'bad id!', PAYLOAD_ENCRYPTION_KEY: current }), /PAYLOAD_ENCRYPTION_KEY_ID must be 1 to 64/);
  });

  it('never echoes a key, token or API key in its errors', () => {
    const short = randomBytes(16).toString('base64');
    const badKey = configError({ PAYLOAD_ENCRYPTION_KEY_ID: 'k', PAYLOAD_ENCRYPTION_KEY: short });
    assert.match(badKey, /PAYLOAD_ENCRYPTION_KEY must be 32 random bytes in base64/);
    assert.ok(!badKey.includes(short));

    const leaked = secret();
    const badList = configError({ PAYLOAD_ENCRYPTION_KEY_ID: 'k', PAYLOAD_ENCRYPTION_KEY: secret(), PAYLOAD_ENCRYPTION_PREVIOUS_KEYS: `old:${leaked},broken` });
    assert.match(badList, /PAYLOAD_ENCRYPTION_PREVIOUS_KEYS entry 2 is not <key id>:<key>/);
    assert.ok(!badList.includes(leaked));

    const badToken = configError({ CODEC_SERVER_TOKEN: 'hunter2-hunter2' });
    assert.match(badToken, /CODEC_SERVER_TOKEN must be at least 32 characters/);
    assert.ok(!badToken.includes('hunter2'));

    const apiKey = `tmprl-${randomBytes(24).toString('hex')}`;
    const noTls = configError({ TEMPORAL_API_KEY: apiKey, TEMPORAL_TLS: 'false' });
    assert.match(noTls, /TEMPORAL_TLS is false, but .* TEMPORAL_API_KEY is set/);
    assert.ok(!noTls.includes(apiKey));
  });

  it('runs the codec server only with a token and keys, for well-formed Web UI origins', () => {
    const token = randomBytes(32).toString('hex');
    assert.match(configError({ CODEC_SERVER_ADDRESS: '127.0.0.1:8234' }), /CODEC_SERVER_TOKEN is not/);
    assert.match(configError({ CODEC_SERVER_ADDRESS: '127.0.0.1:8234', CODEC_SERVER_TOKEN: token }), /PAYLOAD_ENCRYPTION_KEY is not/);
    assert.match(configError({ CODEC_SERVER_ALLOWED_ORIGIN: 'https://temporal.example.com/ui' }), /CODEC_SERVER_ALLOWED_ORIGIN must be the Web UI origin/);
    const config = loadConfig({
      CODEC_SERVER_ADDRESS: '127.0.0.1:8234',
      CODEC_SERVER_TOKEN: token,
      CODEC_SERVER_ALLOWED_ORIGIN: 'https://temporal.example.com, https://ui.example.com:8443',
      PAYLOAD_ENCRYPTION_KEY_ID: 'k',
      PAYLOAD_ENCRYPTION_KEY: secret(),
    });
    assert.deepEqual(config.codecServer.allowedOrigins, ['https://temporal.example.com', 'https://ui.example.com:8443']);
  });

  it('connects to Temporal Cloud with an API key: TLS on, bearer key, namespace header', () => {
    const config = loadConfig({ TEMPORAL_ADDRESS: 'eu-west-1.aws.api.temporal.io:7233', TEMPORAL_NAMESPACE: 'jobs.a1b2c', TEMPORAL_API_KEY: 'key-123' });
    assert.deepEqual(temporalConnectionOptions(config), {
      address: 'eu-west-1.aws.api.temporal.io:7233',
      tls: {},
      apiKey: 'key-123',
      metadata: { 'temporal-namespace': 'jobs.a1b2c' },
    });
  });

  it('connects with mTLS from certificate files, with a private CA and server name', () => {
    const config = loadConfig({
      TEMPORAL_ADDRESS: 'jobs.a1b2c.tmprl.cloud:7233',
      TEMPORAL_TLS_CA_FILE: ca,
      TEMPORAL_TLS_CERT_FILE: cert,
      TEMPORAL_TLS_KEY_FILE: key,
      TEMPORAL_TLS_SERVER_NAME: 'frontend.internal',
    });
    const options = temporalConnectionOptions(config);
    assert.equal(options.apiKey, undefined);
    assert.ok(options.tls);
    assert.equal(Buffer.from(options.tls.serverRootCACertificate!).toString(), readPem(ca));
    assert.equal(Buffer.from(options.tls.clientCertPair!.crt).toString(), readPem(cert));
    assert.equal(Buffer.from(options.tls.clientCertPair!.key).toString(), readPem(key));
    assert.equal(options.tls.serverNameOverride, 'frontend.internal');
    // TLS with the system's CAs only.
    assert.deepEqual(temporalConnectionOptions(loadConfig({ TEMPORAL_TLS: 'true' })).tls, {});
  });

  it('names the variable and the file when a certificate file is missing or not PEM', () => {
    assert.equal(configError({ TEMPORAL_TLS_CA_FILE: missing }), `Invalid configuration: TEMPORAL_TLS_CA_FILE names a file that does not exist (got "${missing}")`);
    assert.match(configError({ TEMPORAL_TLS_CERT_FILE: notPem, TEMPORAL_TLS_KEY_FILE: key }), /TEMPORAL_TLS_CERT_FILE must name a PEM file/);
    // Values of *KEY* variables are never shown, so the path is part of the message itself.
    assert.equal(configError({ TEMPORAL_TLS_CERT_FILE: cert, TEMPORAL_TLS_KEY_FILE: missing }), `Invalid configuration: TEMPORAL_TLS_KEY_FILE names a file that does not exist: ${missing}`);
    assert.match(configError({ TEMPORAL_TLS_CERT_FILE: cert }), /TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE must be set together/);
    assert.match(configError({ AMQP_TLS_CA_FILE: dir }), /AMQP_TLS_CA_FILE names a file that cannot be read \(EISDIR\)/);
  });

  it('writes DATABASE_TLS_* as verify-full libpq parameters that node-postgres turns into TLS options', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://jobs:s3cret@db.internal:5432/notifications', DATABASE_TLS_CA_FILE: ca, DATABASE_TLS_CERT_FILE: cert, DATABASE_TLS_KEY_FILE: key });
    const url = new URL(config.databaseUrl);
    assert.equal(url.searchParams.get('sslmode'), 'verify-full');
    const client = new pg.Client({ connectionString: config.databaseUrl });
    const ssl = (client as unknown as { connectionParameters: { ssl: { ca: string; cert: string; key: string; rejectUnauthorized?: boolean } } }).connectionParameters.ssl;
    assert.equal(ssl.ca, readPem(ca));
    assert.equal(ssl.cert, readPem(cert));
    assert.equal(ssl.key, readPem(key));
    assert.notEqual(ssl.rejectUnauthorized, false);

    // DATABASE_TLS=true alone: TLS verified against the system's CAs.
    const plainTls = new URL(loadConfig({ DATABASE_TLS: 'true' }).databaseUrl);
    assert.equal(plainTls.searchParams.get('sslmode'), 'verify-full');
    assert.equal(plainTls.searchParams.get('sslrootcert'), null);

    assert.match(configError({ DATABASE_URL: 'postgres://db/x?sslmode=require', DATABASE_TLS: 'true' }), /use one or the other/);
    assert.match(configError({ DATABASE_URL: `postgres://db/x?sslmode=verify-full&sslrootcert=${missing}` }), /DATABASE_URL parameter sslrootcert names a file that does not exist/);
    assert.match(configError({ DATABASE_TLS: 'false', DATABASE_TLS_CA_FILE: ca }), /DATABASE_TLS is false/);
  });

  it('gives amqplib the AMQPS CA and client certificate, and only for amqps:// URLs', () => {
    const config = loadConfig({ AMQP_URL: 'amqps://jobs:s3cret@mq.internal:5671', AMQP_TLS_CA_FILE: ca, AMQP_TLS_CERT_FILE: cert, AMQP_TLS_KEY_FILE: key });
    const options = amqpTlsOptions(config);
    assert.equal(options.ca?.[0]?.toString(), readPem(ca));
    assert.equal(options.cert?.toString(), readPem(cert));
    assert.equal(options.key?.toString(), readPem(key));
    const plain = configError({ AMQP_URL: 'amqp://jobs:s3cret@mq.internal:5672', AMQP_TLS_CA_FILE: ca });
    assert.match(plain, /AMQP_TLS_\* is set but AMQP_URL does not start with amqps:\/\//);
    assert.ok(!plain.includes('s3cret'));
  });

  it('says which file could not be read when one disappears after start-up', () => {
    const vanishing = pem('vanishing.pem', 'CERTIFICATE');
    const config = loadConfig({ TEMPORAL_TLS_CA_FILE: vanishing });
    rmSync(vanishing);
    assert.throws(() => temporalConnectionOptions(config), new RegExp(`TEMPORAL_TLS_CA_FILE: cannot read ${vanishing} \\(ENOENT\\)`));
  });
});
