/**
 * Request schemas (zod): the job submission body; its classification parameters are the
 * classify() API's own schema. Unknown fields are rejected.
 */
import { z } from 'zod';
import { paramsProblem, paramsSchema } from '../pipeline/params.js';
import { HttpError } from './errors.js';

/** Classification parameters a client may set: the one parameter schema (see pipeline/params.ts). */
export { paramsSchema };

/** Classification parameters of a job. */
export type JobParams = z.infer<typeof paramsSchema>;

/** `POST /v1/jobs` body: an input path under a data root, or an upload (and a file in it). */
export const submitSchema = z.strictObject({
  input: z.union(
    [
      z.string().min(1).max(4096),
      z.strictObject({ upload: z.string().min(1).max(64), name: z.string().min(1).max(128).optional() }),
    ],
    {
      error: () =>
        'must be a file path under a data root (a string) or an upload: { "upload": "<id>", "name"?: "<file>" }',
    },
  ),
  params: paramsSchema,
});

/** The states `GET /v1/jobs?state=` filters on. */
const JOB_STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;

/** `GET /v1/jobs` query: `state`, and a page of `limit` jobs from `offset` (submission order). */
export const listQuerySchema = z.strictObject({
  state: z.enum(JOB_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});

/** A parsed `POST /v1/jobs` body. */
export type SubmitBody = z.infer<typeof submitSchema>;

/**
 * Parses `value` with `schema`; a violation is a 400 naming the first offending field (`what`
 * names the whole value: the body, or the query).
 */
export function parseBody<S extends z.ZodType>(schema: S, value: unknown, what = 'body'): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  if (issue.path[0] === 'params' && typeof value === 'object' && value !== null) {
    const problem = paramsProblem((value as { params?: unknown }).params, 'params.');
    if (problem) throw new HttpError(400, 'ERR_BAD_REQUEST', problem.message);
  }
  const where = issue.path.length ? issue.path.join('.') : what;
  throw new HttpError(400, 'ERR_BAD_REQUEST', `${where}: ${issue.message}`);
}
