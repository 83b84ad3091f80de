/**
 * `ackmeans evaluate`: measures one or more classifications against the true angles of a
 * simulation (SPEC §6) — a readable table or JSON on stdout, and with -o the evaluation.json,
 * figures and a self-contained report.html.
 */
import type { Command } from 'commander';
import { mkdir } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { writeFileAtomic } from '../io/atomic-write.js';
import { action, parseIntOption } from './common.js';

interface EvaluateOpts {
  truth: string;
  result: string[];
  label: string[];
  viewColumn?: string;
  classes?: number;
  binWidth?: number;
  json?: boolean;
  out?: string;
  title?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function register(program: Command): void {
  program
    .command('evaluate')
    .description(
      'measure classifications against known angles: within-class angular distances, class sizes, adjusted Rand index',
    )
    .requiredOption('--truth <file>', 'STAR file with the true _rlnAngleRot/_rlnAngleTilt of every particle')
    .requiredOption(
      '--result <file>',
      'STAR file with _rlnClassNumber (1..K) of the particles; repeat to compare several results',
      collect,
      [],
    )
    .option(
      '--label <name>',
      'name of the matching --result in tables and charts (repeatable; default: file name)',
      collect,
      [],
    )
    .option(
      '--view-column <name>',
      'truth column with the true view id of each particle, for the adjusted Rand index (default: a column whose name contains "view")',
    )
    .option(
      '--classes <k>',
      'number of classes K (default: the largest class number in each result)',
      parseIntOption('--classes'),
    )
    .option('--bin-width <degrees>', 'histogram bin width: 1 or 2 degrees', parseIntOption('--bin-width'), 1)
    .option('--json', 'print one JSON object instead of the table')
    .option('-o, --out <dir>', 'also write evaluation.json, the PNG figures and report.html into this folder')
    .option('--title <text>', 'title of the report', 'Classification evaluation')
    .action(
      action(async (opts: EvaluateOpts) => {
        const { evaluateFiles } = await import('../eval/evaluate.js');
        const { evaluationToJson, formatEvaluationTable } = await import('../eval/format.js');
        const { writeEvaluationReport } = await import('../report/report.js');
        if (opts.label.length > opts.result.length)
          throw new RangeError(
            `${opts.label.length} --label options for ${opts.result.length} --result files`,
          );
        if (opts.binWidth !== 1 && opts.binWidth !== 2)
          throw new RangeError(`--bin-width must be 1 or 2, got ${opts.binWidth}`);
        if (opts.classes !== undefined && opts.classes < 1)
          throw new RangeError(`--classes must be >= 1, got ${opts.classes}`);
        const labels = opts.result.map((file, i) => opts.label[i] ?? basename(file, extname(file)));
        const results = [];
        for (const [i, file] of opts.result.entries()) {
          const evaluation = await evaluateFiles(opts.truth, file, {
            viewColumn: opts.viewColumn,
            classes: opts.classes,
            binWidth: opts.binWidth,
          });
          results.push({ label: labels[i], file, evaluation });
        }
        const json = {
          truth: opts.truth,
          results: results.map((r) => ({ label: r.label, file: r.file, ...evaluationToJson(r.evaluation) })),
        };
        if (opts.out !== undefined) {
          await mkdir(opts.out, { recursive: true });
          await writeFileAtomic(join(opts.out, 'evaluation.json'), `${JSON.stringify(json, null, 1)}\n`);
          await writeEvaluationReport(opts.out, {
            title: opts.title ?? 'Classification evaluation',
            results,
          });
        }
        if (opts.json) process.stdout.write(`${JSON.stringify(json)}\n`);
        else {
          process.stdout.write(formatEvaluationTable(results));
          if (opts.out !== undefined) process.stdout.write(`\nreport: ${join(opts.out, 'report.html')}\n`);
        }
      }),
    );
}
