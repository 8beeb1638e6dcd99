// The codec server: POST /encode and /decode (Temporal's remote codec protocol) so the Web UI and the
// `temporal` CLI can show decrypted payloads. A bearer token is required; browsers are only served for
// the configured Web UI origin. `npm run codec-server` runs it on its own.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { ConfigError, loadConfig, type Config } from '../config';
import { createLogger, type Logger } from '../logger';
import { AesGcmPayloadCodec, PayloadDecryptionError } from '../temporal/codec';
import { listen, pathOf, readBody, RequestTooLargeError, sendJson, type RunningHttpServer } from './http';

/** Well above Temporal's 2 MB payload limit; the UI sends one event's payloads at a time. */
const BODY_LIMIT_BYTES = 16 * 1024 * 1024;

export interface CodecServerOptions {
  /** host:port */
  address: string;
  token: string;
  /** Exact origins (scheme://host:port) of the Web UI; other browser origins get 403. */
  allowedOrigins: string[];
  codec: PayloadCodec;
  logger: Logger;
}

/** Payloads as the protocol carries them: protobuf JSON, bytes in base64. */
interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

function fromJson(payload: JsonPayload): Payload {
  if (typeof payload !== 'object' || payload === null) throw new TypeError('each payload must be an object');
  const metadata: Record<string, Uint8Array> = {};
  for (const [key, value] of Object.entries(payload.metadata ?? {})) {
    if (typeof value !== 'string') throw new TypeError(`metadata "${key}" must be base64 text`);
    metadata[key] = Buffer.from(value, 'base64');
  }
  if (payload.data !== undefined && typeof payload.data !== 'string') throw new TypeError('data must be base64 text');
  return { metadata, data: Buffer.from(payload.data ?? '', 'base64') };
}

function toJson(payload: Payload): JsonPayload {
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(payload.metadata ?? {})) metadata[key] = Buffer.from(value).toString('base64');
  return { metadata, data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64') };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

export async function startCodecServer(options: CodecServerOptions): Promise<RunningHttpServer> {
  const log = options.logger.child({ component: 'codec-server' });
  const expectedToken = digest(options.token);
  const allowed = new Set(options.allowedOrigins);

  // Comparing digests takes the same time whatever the token, and whatever its length.
  const hasValidToken = (request: IncomingMessage): boolean | undefined => {
    const header = request.headers.authorization;
    if (!header) return undefined;
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    return match ? timingSafeEqual(digest(match[1]!), expectedToken) : false;
  };

  const corsHeaders = (origin: string | undefined): Record<string, string> =>
    origin && allowed.has(origin)
      ? {
          'access-control-allow-origin': origin,
          'access-control-allow-credentials': 'true',
          'access-control-allow-methods': 'POST, OPTIONS',
          'access-control-allow-headers': 'authorization, authorization-extras, content-type, x-namespace',
          'access-control-max-age': '600',
          vary: 'Origin',
        }
      : { vary: 'Origin' };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const origin = request.headers.origin;
    const cors = corsHeaders(origin);
    // Browsers always send Origin on cross-origin requests; the CLI sends none.
    if (origin !== undefined && !allowed.has(origin)) {
      log.warn({ origin, path: pathOf(request) }, 'codec request from an origin that is not allowed');
      return sendJson(response, 403, { error: 'origin not allowed' }, cors);
    }
    if (request.method === 'OPTIONS') {
      response.writeHead(204, cors);
      return response.end();
    }
    const path = pathOf(request);
    // The protocol lets the endpoints be mounted under any prefix: only the last segment counts.
    const operation = path.endsWith('/encode') ? 'encode' : path.endsWith('/decode') ? 'decode' : undefined;
    if (!operation) return sendJson(response, 404, { error: 'not found: POST /encode or /decode' }, cors);
    if (request.method !== 'POST') return sendJson(response, 405, { error: 'only POST' }, { ...cors, allow: 'POST, OPTIONS' });

    const valid = hasValidToken(request);
    if (valid !== true) {
      log.warn({ path, origin, reason: valid === undefined ? 'no token' : 'wrong token' }, 'codec request refused');
      return sendJson(response, 401, { error: valid === undefined ? 'bearer token required' : 'invalid bearer token' }, {
        ...cors,
        'www-authenticate': `Bearer realm="codec"${valid === undefined ? '' : ', error="invalid_token"'}`,
      });
    }

    let payloads: Payload[];
    try {
      const body = JSON.parse((await readBody(request, BODY_LIMIT_BYTES)).toString('utf8')) as { payloads?: unknown };
      if (!Array.isArray(body?.payloads)) throw new TypeError('the body must be {"payloads": [...]}');
      payloads = body.payloads.map((payload) => fromJson(payload as JsonPayload));
    } catch (error) {
      if (error instanceof RequestTooLargeError) return sendJson(response, 413, { error: error.message }, cors);
      return sendJson(response, 400, { error: `bad request: ${(error as Error).message}` }, cors);
    }

    try {
      const result = operation === 'encode' ? await options.codec.encode(payloads) : await options.codec.decode(payloads);
      sendJson(response, 200, { payloads: result.map(toJson) }, cors);
    } catch (error) {
      if (error instanceof PayloadDecryptionError) {
        log.warn({ path, reason: error.message }, 'payload could not be decoded');
        return sendJson(response, 422, { error: error.message }, cors);
      }
      throw error;
    }
  };

  return listen(
    (request, response) => {
      handle(request, response).catch((error) => {
        log.error({ err: error }, 'codec request failed');
        if (!response.headersSent) sendJson(response, 500, { error: 'internal error' });
      });
    },
    options.address,
    'CODEC_SERVER_ADDRESS',
  );
}

/** The codec server of a configuration, or undefined when CODEC_SERVER_ADDRESS is unset. */
export async function startConfiguredCodecServer(config: Config, logger: Logger): Promise<RunningHttpServer | undefined> {
  const { address, token, allowedOrigins } = config.codecServer;
  if (!address || !token || !config.payloadEncryption) return undefined;
  const server = await startCodecServer({ address, token, allowedOrigins, codec: new AesGcmPayloadCodec(config.payloadEncryption), logger });
  logger.info({ codecServer: server.url, allowedOrigins }, `codec server at ${server.url}`);
  return server;
}

async function main() {
  const config = loadConfig();
  const logger = createLogger(config, 'codec-server');
  if (!config.codecServer.address) throw new ConfigError('Invalid configuration: CODEC_SERVER_ADDRESS must be set to run the codec server (for example 127.0.0.1:8234)');
  const server = (await startConfiguredCodecServer(config, logger))!;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void server.close());
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error instanceof ConfigError ? error.message : error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
