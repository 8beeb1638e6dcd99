// The codec server over real HTTP: the remote codec protocol, its bearer token and its CORS policy.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import pino from 'pino';
import { startCodecServer } from '../../src/ops/codec-server';
import type { RunningHttpServer } from '../../src/ops/http';
import { AesGcmPayloadCodec } from '../../src/temporal/codec';
import { freePort } from '../support/ports';

const token = randomBytes(32).toString('hex');
const uiOrigin = 'http://127.0.0.1:8233';
const key = randomBytes(32);

interface JsonPayload {
  metadata: Record<string, string>;
  data: string;
}

function toJson(value: unknown): JsonPayload {
  const payload = defaultPayloadConverter.toPayload(value);
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata!).map(([name, bytes]) => [name, Buffer.from(bytes).toString('base64')])),
    data: Buffer.from(payload.data!).toString('base64'),
  };
}

function fromJson(payload: JsonPayload): unknown {
  return defaultPayloadConverter.fromPayload({
    metadata: Object.fromEntries(Object.entries(payload.metadata).map(([name, text]) => [name, Buffer.from(text, 'base64')])),
    data: Buffer.from(payload.data, 'base64'),
  });
}

describe('codec server', () => {
  let server: RunningHttpServer;
  const logged: string[] = [];

  before(async () => {
    const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(line) });
    server = await startCodecServer({
      address: `127.0.0.1:${await freePort()}`,
      token,
      allowedOrigins: [uiOrigin],
      codec: new AesGcmPayloadCodec({ currentKeyId: 'k1', keys: { k1: key } }),
      logger,
    });
  });
  after(() => server?.close());

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const authorized = { authorization: `Bearer ${token}` };

  it('encodes and decodes with a valid token, as the CLI calls it (no Origin)', async () => {
    const value = { email: 'grace@example.org', name: 'Grace Hopper' };
    const encoded = await post('/encode', { payloads: [toJson(value)] }, authorized);
    assert.equal(encoded.status, 200);
    const { payloads } = (await encoded.json()) as { payloads: JsonPayload[] };
    assert.equal(Buffer.from(payloads[0]!.metadata.encoding!, 'base64').toString(), 'binary/encrypted');
    assert.doesNotMatch(Buffer.from(payloads[0]!.data, 'base64').toString('latin1'), /grace|hopper/i);

    // Mounted under a prefix with the UI's query string: only the last path segment counts.
    const decoded = await post('/codec/decode?preserveStorageRefs=true', { payloads }, { ...authorized, 'x-namespace': 'default' });
    assert.equal(decoded.status, 200);
    const result = (await decoded.json()) as { payloads: JsonPayload[] };
    assert.deepEqual(fromJson(result.payloads[0]!), value);
  });

  it('refuses a request without a token, or with a wrong one, with 401', async () => {
    const body = { payloads: [toJson('x')] };
    const missing = await post('/decode', body);
    assert.equal(missing.status, 401);
    assert.match(missing.headers.get('www-authenticate') ?? '', /^Bearer/);
    const wrong = await post('/decode', body, { authorization: `Bearer ${randomBytes(32).toString('hex')}` });
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get('www-authenticate') ?? '', /invalid_token/);
    const notBearer = await post('/decode', body, { authorization: `Basic ${Buffer.from(`x:${token}`).toString('base64')}` });
    assert.equal(notBearer.status, 401);
  });

  it('serves the Web UI origin, preflight included, and nobody else (403, no CORS headers)', async () => {
    const preflight = await fetch(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: { origin: uiOrigin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,x-namespace' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), uiOrigin);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /authorization/);

    const fromUi = await post('/decode', { payloads: [toJson('x')] }, { ...authorized, origin: uiOrigin });
    assert.equal(fromUi.status, 200);
    assert.equal(fromUi.headers.get('access-control-allow-origin'), uiOrigin);

    const foreignPreflight = await fetch(`${server.url}/decode`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    assert.equal(foreignPreflight.status, 403);
    assert.equal(foreignPreflight.headers.get('access-control-allow-origin'), null);
    // Even with the right token: a page elsewhere must not be able to use an operator's credentials.
    const foreign = await post('/decode', { payloads: [toJson('x')] }, { ...authorized, origin: 'http://127.0.0.1:9999' });
    assert.equal(foreign.status, 403);
    assert.equal(foreign.headers.get('access-control-allow-origin'), null);
  });

  it('answers bad requests and undecodable payloads with a clear 4xx, and keeps serving', async () => {
    assert.equal((await post('/decode', { nope: true }, authorized)).status, 400);
    const notJson = await fetch(`${server.url}/decode`, { method: 'POST', headers: authorized, body: '{' });
    assert.equal(notJson.status, 400);
    const foreignKey = new AesGcmPayloadCodec({ currentKeyId: 'k0', keys: { k0: randomBytes(32) } });
    const [sealed] = await foreignKey.encode([defaultPayloadConverter.toPayload('secret')]);
    const unknownKey = await post(
      '/decode',
      { payloads: [{ metadata: Object.fromEntries(Object.entries(sealed!.metadata!).map(([n, b]) => [n, Buffer.from(b).toString('base64')])), data: Buffer.from(sealed!.data!).toString('base64') }] },
      authorized,
    );
    assert.equal(unknownKey.status, 422);
    assert.match(((await unknownKey.json()) as { error: string }).error, /key id "k0", which is not configured/);
    assert.equal((await fetch(`${server.url}/decode`, { headers: authorized })).status, 405);
    assert.equal((await post('/other', {}, authorized)).status, 404);
    assert.equal((await post('/decode', { payloads: [] }, authorized)).status, 200);
  });

  it('never writes the token or a payload into its logs', () => {
    const text = logged.join('\n');
    assert.match(text, /codec request refused/);
    assert.ok(!text.includes(token));
    assert.doesNotMatch(text, /grace|hopper/i);
  });
});
