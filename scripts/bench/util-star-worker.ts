/**
 * One operation of the STAR benchmark in its own process (so its peak RSS is its own):
 * `util-star-worker.ts readStar|info|validate FILE` prints {"seconds": …} (the operation alone).
 */
import { describeFile, readStar, validateFile } from '../../src/io/index.js';

const [op, file] = process.argv.slice(2);
const t0 = performance.now();
if (op === 'readStar') await readStar(file);
else if (op === 'info') await describeFile(file);
else if (op === 'validate') {
  const problems = await validateFile(file);
  if (problems.length) throw new Error(`validate found problems: ${problems.join('; ')}`);
} else throw new Error(`unknown operation ${op}`);
process.stdout.write(`${JSON.stringify({ seconds: (performance.now() - t0) / 1000 })}\n`);
