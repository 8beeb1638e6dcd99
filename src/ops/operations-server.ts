// The operations endpoint of a process: GET /healthz (alive), GET /readyz (dependencies reachable), and
// on the worker GET /stats (the statistics API).
import type { Logger } from '../logger';
import { listen, pathOf, sendJson, type RunningHttpServer } from './http';
import type { Readiness } from './readiness';
import type { Statistics } from './stats';

export interface OperationsServerOptions {
  /** host:port */
  address: string;
  /** The configuration variable holding the address, for error messages. */
  addressVariable: string;
  logger: Logger;
  readiness: () => Promise<Readiness>;
  statistics?: () => Promise<Statistics>;
}

export async function startOperationsServer(options: OperationsServerOptions): Promise<RunningHttpServer> {
  const startedAt = Date.now();
  const log = options.logger.child({ component: 'operations-server' });
  return listen(
    (request, response) => {
      const path = pathOf(request);
      if (request.method !== 'GET' && request.method !== 'HEAD') return sendJson(response, 405, { error: 'only GET' }, { allow: 'GET, HEAD' });
      const answer = async () => {
        switch (path) {
          case '/healthz':
            return sendJson(response, 200, { status: 'ok', uptimeSeconds: Math.round((Date.now() - startedAt) / 1000) });
          case '/readyz': {
            const readiness = await options.readiness();
            return sendJson(response, readiness.ready ? 200 : 503, { status: readiness.ready ? 'ready' : 'not ready', ...readiness });
          }
          case '/stats':
            if (options.statistics) return sendJson(response, 200, await options.statistics());
            break;
        }
        sendJson(response, 404, { error: 'not found', endpoints: ['/healthz', '/readyz', ...(options.statistics ? ['/stats'] : [])] });
      };
      answer().catch((error) => {
        log.error({ err: error, path }, 'operations request failed');
        if (!response.headersSent) sendJson(response, 500, { error: 'internal error' });
      });
    },
    options.address,
    options.addressVariable,
  );
}
