// The request handler: find the route, run it, write the answer, log one line.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HubConfig } from '../config.ts';
import type { Logger } from '../log.ts';
import { AppError, isBusyError } from '../errors.ts';
import { type Call, compileRoutes, noRoute, readBody, type Route, sendError, sendHtml, sendJson } from './core.ts';
import { whileBusy } from '../storage/index.ts';

export function clientIp(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const xff = req.headers['x-forwarded-for'];
    const list = (Array.isArray(xff) ? xff.join(',') : xff ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    // The nearest proxy appends the address it saw last; earlier entries are the client's to forge.
    if (list.length) return list[list.length - 1];
  }
  return req.socket.remoteAddress ?? '';
}

/**
 * durable: the storage's durable() — an answer waits until the writes it reports are committed.
 * record: told of every answered request (for /metrics), with the route pattern, not the path.
 */
export function createRequestHandler(
  routes: Route[], cfg: HubConfig, log: Logger,
  durable: () => Promise<void> | null = () => null,
  record: (method: string, route: string, status: number, seconds: number) => void = () => {},
) {
  const match = compileRoutes(routes);
  return async function handle(req: IncomingMessage, res: ServerResponse) {
    const started = performance.now();
    const url = req.url ?? '/';
    const qi = url.indexOf('?');
    const path = qi < 0 ? url : url.slice(0, qi);
    const method = req.method ?? 'GET';
    const found = match(method, path);
    try {
      if (!found.handler) {
        if (found.allow) {
          throw new AppError(405, 'method_not_allowed', `${method} is not allowed here; use ${found.allow.join(', ')}.`, { headers: { Allow: found.allow.join(', ') } });
        }
        throw noRoute(method, path);
      }
      let bodyPromise: Promise<unknown> | undefined;
      const call: Call = {
        req, res, method, path, params: found.params,
        query: new URLSearchParams(qi < 0 ? '' : url.slice(qi + 1)),
        ip: clientIp(req, cfg.trustProxy),
        body: () => (bodyPromise ??= readBody(req, cfg.bodyLimit)),
      };
      let reply: Awaited<ReturnType<typeof found.handler>>;
      try {
        reply = await found.handler(call);
      } catch (err) {
        // Another program holds the database's lock: the request is run again a moment later (for up
        // to 5 s, then 503 database_busy), and the hub answers everything else meanwhile.
        if (!isBusyError(err)) throw err;
        reply = await whileBusy(() => found.handler!(call));
      }
      const pending = durable();
      if (pending) await pending;
      if (reply.html !== undefined) sendHtml(res, reply.status ?? 200, reply.html, reply.headers);
      else if (reply.text !== undefined) {
        res.writeHead(reply.status ?? 200, { 'Content-Type': reply.contentType ?? 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(reply.text), ...reply.headers });
        res.end(reply.text);
      }
      else sendJson(res, reply.status ?? 200, reply.body, reply.headers);
    } catch (err) {
      await durable()?.catch(() => {});
      sendError(res, err, log, { method, path });
    }
    // Drain what the handler did not read, so the connection can be reused.
    if (!req.complete) req.resume();
    const ms = performance.now() - started;
    record(method, found.pattern ?? 'unmatched', res.statusCode, ms / 1000);
    log.request(method, path, res.statusCode, Math.round(ms * 10) / 10);
  };
}
