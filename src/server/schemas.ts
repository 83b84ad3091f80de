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
  input: z.union([
    z.string().min(1).max(4096),
    z.strictObject({ upload: z.string().min(1).max(64), name: z.string().min(1).max(128).optional() }),
  ]),
  params: paramsSchema,
});

/** A parsed `POST /v1/jobs` body. */
export type SubmitBody = z.infer<typeof submitSchema>;

/** Parses `value` with `schema`; a violation is a 400 naming the first offending field. */
export function parseBody<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  if (issue.path[0] === 'params' && typeof value === 'object' && value !== null) {
    const problem = paramsProblem((value as { params?: unknown }).params, 'params.');
    if (problem) throw new HttpError(400, 'ERR_BAD_REQUEST', problem.message);
  }
  const where = issue.path.length ? issue.path.join('.') : 'body';
  throw new HttpError(400, 'ERR_BAD_REQUEST', `${where}: ${issue.message}`);
}
