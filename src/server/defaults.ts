/**
 * The server's defaults, apart from the server itself: `ackmeans serve --help` shows them without
 * loading fastify or SQLite (start-up time, issue 11).
 */
import type { Limits } from './app.js';

/** Environment variable holding the token when `token` is not given. */
export const TOKEN_ENV = 'ACKMEANS_TOKEN';

/** Default limits. */
export const DEFAULT_LIMITS: Limits = {
  maxUploadBytes: 2 * 1024 ** 3,
  uploadQuotaBytes: 20 * 1024 ** 3,
  maxK: 1000,
  maxBox: 1024,
  maxParticles: 2_000_000,
};
