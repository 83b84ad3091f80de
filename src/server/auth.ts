/**
 * Bearer-token check in constant time: both tokens are hashed to equal-length SHA-256 digests and
 * compared with `crypto.timingSafeEqual`, so neither the content nor the length of the expected
 * token leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpError } from './errors.js';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Returns a checker for `Authorization` header values against `token`. */
export function bearerChecker(token: string): (header: string | undefined) => void {
  if (token.length < 8) throw new RangeError('the server token must have at least 8 characters');
  const expected = digest(token);
  return (header) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!match) throw new HttpError(401, 'ERR_UNAUTHORIZED', 'missing bearer token');
    if (!timingSafeEqual(digest(match[1]), expected))
      throw new HttpError(401, 'ERR_UNAUTHORIZED', 'wrong bearer token');
  };
}
