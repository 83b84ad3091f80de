/**
 * The HTTP layer under attack, on loopback with short limits: headers that never finish
 * (slow-loris), a body at one byte every two seconds, an oversized body announced with
 * `Expect: 100-continue`, malformed HTTP; and a stale `server.pid` naming another live process.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server/serve.js';
import { client, removeDir, startFakeServer, tempDir, TOKEN } from './helpers.js';

let dir: string;
let server: RunningServer;
let port: number;

beforeAll(async () => {
  dir = await tempDir('http');
  server = await startFakeServer({
    workDir: join(dir, 'work'),
    timeouts: {
      headersMs: 1000,
      requestMs: 60_000,
      idleMs: 30_000,
      minBodyBytesPerSecond: 100,
      rateWindowMs: 1000,
    },
  });
  port = server.port;
});
afterAll(async () => {
  await server?.close();
  await removeDir(dir);
});

/** Opens a raw connection; resolves with everything the server sent once it closes (or null after `ms`). */
function rawSession(start: (s: Socket) => void, ms: number): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const give = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed });
    };
    const timer = setTimeout(() => give(false), ms);
    socket.on('data', (d) => (text += d.toString()));
    socket.on('close', () => give(true));
    socket.on('error', () => {});
    socket.on('connect', () => start(socket));
  });
}

describe('timeouts', () => {
  it('closes a connection whose headers never finish (408 with a code)', async () => {
    const r = await rawSession((s) => s.write('GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: '), 20_000);
    expect(r.closed).toBe(true);
    expect(r.text).toMatch(/^HTTP\/1\.1 408/);
    expect(r.text).toContain('"code":"ERR_TIMEOUT"');
  });

  it('cuts off an upload arriving at one byte every two seconds', async () => {
    let timer: NodeJS.Timeout | undefined;
    const r = await rawSession((s) => {
      s.write(
        `POST /v1/uploads?name=slow.mrcs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n` +
          'Content-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\n',
      );
      timer = setInterval(() => s.writable && s.write('x'), 2000);
    }, 30_000);
    clearInterval(timer);
    expect(r.closed).toBe(true);
    expect(r.text).toMatch(/^HTTP\/1\.1 408/);
    expect(r.text).toContain('slower than 100 bytes/s');
    expect((await client(server.url).get('/v1/health')).status).toBe(200);
  });
});

describe('malformed and oversized requests', () => {
  it('answers an oversized Expect: 100-continue body with 413 before it is sent', async () => {
    const r = await rawSession((s) => {
      s.write(
        `POST /v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${2 * 1024 * 1024}\r\nExpect: 100-continue\r\n\r\n`,
      );
    }, 20_000);
    expect(r.text).toMatch(/^HTTP\/1\.1 413/);
    expect(r.text).not.toContain('100 Continue');
    expect(r.text).toContain('"code":"ERR_TOO_LARGE"');
  });

  it('lets a small Expect: 100-continue body through', async () => {
    const body = JSON.stringify({ input: 'x.star', params: { k: 2 } });
    const r = await rawSession((s) => {
      s.write(
        `POST /v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`,
      );
      s.once('data', () => s.write(body));
    }, 20_000);
    expect(r.text).toMatch(/^HTTP\/1\.1 100 Continue/);
    expect(r.text).toMatch(/HTTP\/1\.1 403/); // no data root: the input is refused, after reading it
  });

  it('answers malformed HTTP with a JSON body carrying a code', async () => {
    const r = await rawSession((s) => s.write('THIS IS NOT HTTP\r\n\r\n'), 20_000);
    expect(r.text).toMatch(/^HTTP\/1\.1 400/);
    const body = JSON.parse(r.text.slice(r.text.indexOf('\r\n\r\n') + 4)) as { code: string };
    expect(body.code).toBe('ERR_BAD_REQUEST');
  });
});

describe('stale lock', () => {
  it('takes over a server.pid naming a live process that is not a server', async () => {
    const workDir = join(dir, 'work-stale');
    const first = await startFakeServer({ workDir });
    await first.close();
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      await writeFile(join(workDir, 'server.pid'), `${other.pid}\n`);
      const s = await startFakeServer({ workDir });
      expect((await client(s.url).get('/v1/health')).status).toBe(200);
      await s.close();
      // Same with a start time that is not the process's own (its pid was reused).
      await writeFile(join(workDir, 'server.pid'), `${other.pid} 1\n`);
      const again = await startFakeServer({ workDir });
      await again.close();
    } finally {
      other.kill();
    }
  });
});
