/**
 * `ackmeans doctor`: checks the installation — the native addon loads, its libraries and SIMD
 * level, and a small distance table agrees with a direct computation.
 */
import type { Command } from 'commander';
import { action } from './common.js';

export function register(program: Command): void {
  program
    .command('doctor')
    .description('check the installation: native addon, FFTW, OpenBLAS, SIMD, threads, and a small real job')
    .option('--json', 'print one JSON object')
    .action(
      action(async (opts: { json?: boolean }) => {
        const { distanceTable } = await import('../distances.js');
        const { info } = await import('../native.js');
        const facts = info();
        const n = 2000;
        const k = 50;
        const dim = 1024;
        const images = new Float32Array(n * dim).map((_, i) => Math.sin(i * 0.37));
        const refs = images.slice(0, k * dim);
        const t0 = performance.now();
        const table = await distanceTable(images, refs, { dim });
        const seconds = (performance.now() - t0) / 1000;
        let maxErr = 0;
        for (const [i, j] of [
          [0, 0],
          [n - 1, k - 1],
          [977, 13],
        ]) {
          // the table is ‖x‖² + ‖y‖² − 2·x·y in float32: its error scales with the norms (an
          // image against itself gives ~1e-7·‖x‖², not 0), so that is what the error is relative to
          let d = 0;
          let norms = 0;
          for (let t = 0; t < dim; t++) {
            const x = images[i * dim + t];
            const y = refs[j * dim + t];
            d += (x - y) ** 2;
            norms += x * x + y * y;
          }
          maxErr = Math.max(maxErr, Math.abs(table[i * k + j] - d) / Math.max(1, norms));
        }
        const ok = maxErr < 1e-4;
        const result = { ...facts, check: { n, k, dim, seconds, maxRelativeError: maxErr, ok } };
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(result)}\n`);
        } else {
          process.stdout.write(
            [
              `native addon   ok (${facts.compiler}, N-API ${facts.napiVersion})`,
              `FFTW           ${facts.fftw}`,
              `OpenBLAS       ${facts.openblas} [${facts.openblasCore}]`,
              `SIMD           ${facts.simd}`,
              `threads        ${facts.hardwareThreads} hardware, OpenMP default ${facts.ompMaxThreads}`,
              `distance table ${n}×${k}×${dim} in ${seconds.toFixed(3)} s, max relative error ${maxErr.toExponential(1)}: ${ok ? 'ok' : 'WRONG'}`,
            ].join('\n') + '\n',
          );
        }
        if (!ok) process.exitCode = 1;
      }),
    );
}
