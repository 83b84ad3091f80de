/**
 * `GET /v1/jobs/:id/events`: server-sent events for one job. The stream opens with the job's
 * current state, then carries `progress`, `iteration` and `state` events as they happen, and ends
 * after the job reaches a final state. A comment line every 15 s keeps proxies from closing it.
 */
import type { ServerResponse } from 'node:http';
import type { JobEvent, JobQueue } from './queue.js';
import { FINAL_STATES, type Job } from './store.js';

const HEARTBEAT_MS = 15_000;

/** Formats one SSE message. */
export function sseMessage(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * Streams the events of `job` to `res` until it is final or the client goes away. `view` turns a
 * stored job into what clients see.
 */
export function streamJobEvents(
  res: ServerResponse,
  queue: JobQueue,
  job: Job,
  view: (j: Job) => unknown,
): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write(sseMessage('state', view(job)));
  if (FINAL_STATES.includes(job.state)) {
    res.end();
    return;
  }
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
  const stop = (): void => {
    clearInterval(heartbeat);
    queue.off('event', onEvent);
  };
  const onEvent = (e: JobEvent): void => {
    if (e.id !== job.id) return;
    if (e.type === 'state') {
      res.write(sseMessage('state', view(e.job)));
      if (FINAL_STATES.includes(e.job.state)) {
        stop();
        res.end();
      }
    } else if (e.type === 'progress') res.write(sseMessage('progress', e.progress));
    else res.write(sseMessage('iteration', e.trace));
  };
  queue.on('event', onEvent);
  res.on('close', stop);
}
