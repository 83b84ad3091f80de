/**
 * The worker thread of `inspectInput` (inspect.ts): for each `{ path, rules }` message, runs
 * `inspectConfined` and posts `{ facts }` or `{ error }` back.
 */
import { parentPort } from 'node:worker_threads';
import { inspectConfined, toThreadError, type InspectRules } from './inspect.js';

parentPort!.on('message', ({ path, rules }: { path: string; rules: InspectRules }) => {
  inspectConfined(path, rules).then(
    (facts) => parentPort!.postMessage({ facts }),
    (err: unknown) => parentPort!.postMessage({ error: toThreadError(err) }),
  );
});
