/**
 * The HTTP server under the API, with the limits a server on a network needs:
 *
 * - `headersMs`: a connection that has not sent its complete headers by then is answered 408 and
 *   closed (slow-loris);
 * - `requestMs`: the whole request, body included, must arrive by then;
 * - `idleMs`: a connection with no traffic for this long is closed (also the keep-alive limit);
 * - `minBodyBytesPerSecond` over `rateWindowMs`: a body that trickles in slower (one byte every two
 *   seconds) is cut off with 408 — big uploads at a real speed are not;
 * - `Expect: 100-continue` with a Content-Length above the route's limit is answered 413 at
 *   once, before the client sends the body;
 * - malformed HTTP gets a JSON body with a `code`, like every other error.
 */
import {
  createServer,
  STATUS_CODES,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';

/** Timeouts of the HTTP server, in milliseconds (and bytes per second). */
export interface HttpTimeouts {
  /** Time to receive the request headers. */
  headersMs: number;
  /** Time to receive the whole request, body included. */
  requestMs: number;
  /** Time a connection may be silent. */
  idleMs: number;
  /** Slowest accepted request body, bytes per second, averaged over `rateWindowMs`. */
  minBodyBytesPerSecond: number;
  /** The window over which the body rate is measured. */
  rateWindowMs: number;
}

/** Defaults: 15 s for headers, 1 h per request, 60 s of silence, bodies at >= 1 KiB/s over 20 s. */
export const DEFAULT_TIMEOUTS: HttpTimeouts = {
  headersMs: 15_000,
  requestMs: 3_600_000,
  idleMs: 60_000,
  minBodyBytesPerSecond: 1024,
  rateWindowMs: 20_000,
};

/** An HTTP response with a JSON error body, written straight to the socket, then closed. */
export function rawError(status: number, code: string, message: string): string {
  const body = JSON.stringify({ error: message, code });
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/** Fastify's `clientErrorHandler`: malformed or timed-out requests get a JSON body with a code. */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const reply =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? rawError(408, 'ERR_TIMEOUT', 'the request did not arrive in time')
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? rawError(431, 'ERR_HEADERS_TOO_LARGE', 'the request headers are too large')
        : rawError(400, 'ERR_BAD_REQUEST', 'malformed HTTP request');
  if (socket.writable) socket.end(reply);
  socket.destroy();
}

/** Cuts off a request whose body arrives slower than the minimum rate. */
function watchBodyRate(req: IncomingMessage, res: ServerResponse, t: HttpTimeouts): void {
  const length = Number(req.headers['content-length']);
  if (req.method === 'GET' || req.method === 'HEAD' || length === 0) return;
  const socket = req.socket;
  const perWindow = (t.minBodyBytesPerSecond * t.rateWindowMs) / 1000;
  let last = socket.bytesRead;
  const timer = setInterval(() => {
    if (req.complete || socket.destroyed) return clearInterval(timer);
    const now = socket.bytesRead;
    if (now - last < perWindow) {
      clearInterval(timer);
      if (!res.headersSent && socket.writable)
        socket.end(
          rawError(
            408,
            'ERR_TIMEOUT',
            `the request body arrived slower than ${t.minBodyBytesPerSecond} bytes/s`,
          ),
        );
      socket.destroy();
    }
    last = now;
  }, t.rateWindowMs);
  timer.unref();
  const stop = () => clearInterval(timer);
  req.once('end', stop);
  req.once('close', stop);
}

/**
 * Fastify's `serverFactory` for these timeouts; `bodyLimit(req)` is the largest body the
 * request's route takes (checked against the Content-Length of `Expect: 100-continue`).
 */
export function httpServerFactory(t: HttpTimeouts, bodyLimit: (req: IncomingMessage) => number) {
  return (handler: (req: IncomingMessage, res: ServerResponse) => void): Server => {
    const server = createServer(
      {
        headersTimeout: t.headersMs,
        requestTimeout: t.requestMs,
        keepAliveTimeout: t.idleMs,
        connectionsCheckingInterval: Math.max(50, Math.min(t.headersMs, 30_000) / 4),
      },
      (req, res) => {
        watchBodyRate(req, res, t);
        handler(req, res);
      },
    );
    server.setTimeout(t.idleMs);
    server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
      const length = Number(req.headers['content-length']);
      const limit = bodyLimit(req);
      if (Number.isFinite(length) && length > limit) {
        const body = JSON.stringify({
          error: `request body of ${length} bytes is larger than the limit of ${limit} bytes`,
          code: 'ERR_TOO_LARGE',
        });
        res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
        res.end(body);
        return;
      }
      res.writeContinue();
      server.emit('request', req, res);
    });
    return server;
  };
}
