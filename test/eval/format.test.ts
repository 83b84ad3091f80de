import { describe, expect, it } from 'vitest';
import { evaluationToJson, formatEvaluationTable } from '../../src/eval/format.js';
import { evaluateClasses } from '../../src/eval/metrics.js';
import { simulateViews } from './views.js';

describe('evaluation output', () => {
  const v = simulateViews(3, 1, 0, 1);
  const singletons = evaluateClasses({ ...v, classes: Int32Array.from([0, 1, 2]), k: 4 });

  it('JSON has plain arrays and null for undefined statistics (no pairs)', () => {
    const json = evaluationToJson(singletons) as {
      sizes: unknown;
      mirror: { median: unknown; histogram: unknown };
    };
    expect(json.sizes).toEqual([0, 1, 1, 1]);
    expect(json.mirror.median).toBeNull();
    expect(Array.isArray(json.mirror.histogram)).toBe(true);
  });

  it('the table has one column per result, aligned, with — for undefined values', () => {
    const text = formatEvaluationTable([
      { label: 'first', evaluation: singletons },
      { label: 'second method', evaluation: singletons },
    ]);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\s+first\s+second method$/);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
    expect(text).toMatch(/median angle, view ≡ mirror\s+—\s+—$/m);
    expect(text).toMatch(/classes with 1 member\s+3\s+3/);
    expect(text).toMatch(/class sizes min \/ median \/ max\s+0 \/ 1 \/ 1/);
  });
});
