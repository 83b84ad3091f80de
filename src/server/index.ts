/**
 * `ackmeans/server`: the HTTP job server as its own entry point, so `import 'ackmeans'` does not load
 * fastify or SQLite (start-up time, issue 11).
 */
export { startServer, DEFAULT_LIMITS, TOKEN_ENV, type ServerOptions, type RunningServer } from './serve.js';
export { DEFAULT_TIMEOUTS, type HttpTimeouts } from './http-server.js';
export type { Limits } from './app.js';
