import { describe, expect, it } from 'vitest';
import { type Checkpoint, PhaseRunner } from '../../src/pipeline/checkpoint.js';
import type { ClusteringResult, ClusteringState } from '../../src/cluster/types.js';

type TraceRecord = ClusteringResult['trace'][number];

const record = (iteration: number) => ({ iteration, sigma: 0.5, sizes: [1, 1] }) as unknown as TraceRecord;

describe('PhaseRunner', () => {
  it('reports an iteration before saving its state, so a death during the save loses no record', async () => {
    const events: string[] = [];
    const checkpoint = { phases: {} } as unknown as Checkpoint;
    const runner = new PhaseRunner(
      checkpoint,
      async () => {
        events.push('save');
        throw new Error('killed while saving');
      },
      (phase, r) => {
        events.push(`${phase}:${r.iteration}`);
      },
    );
    await expect(
      runner.runWith('classes', async (hooks) => {
        await hooks.onIteration(record(0), {} as ClusteringState);
        return {} as ClusteringResult;
      }),
    ).rejects.toThrow('killed while saving');
    expect(events).toEqual(['classes:0', 'save']);
  });

  it('saves every iteration, even when the run is aborted from onIteration', async () => {
    const saved: number[] = [];
    const checkpoint = { phases: {} } as unknown as Checkpoint;
    const controller = new AbortController();
    const runner = new PhaseRunner(
      checkpoint,
      async (cp) => {
        saved.push((cp.phases.classes as unknown as { at: number }).at);
      },
      () => controller.abort(),
    );
    await runner.runWith('classes', async (hooks) => {
      for (let i = 0; i < 3 && !controller.signal.aborted; i++)
        await hooks.onIteration(record(i), { at: i } as unknown as ClusteringState);
      return {} as ClusteringResult;
    });
    expect(saved).toEqual([0]);
  });
});
