import { vectorAngle, foldMirror } from './src/eval/angles.js';
import { AngleAccumulator } from './src/eval/histogram.js';
const N = 5e6;
const xs = Float64Array.from({ length: 3000 }, () => Math.random() * 2 - 1);
let t = performance.now(); let s = 0;
for (let p = 0; p < N; p++) { const i = (p * 3) % 2997, j = (p * 7 + 3) % 2997; s += vectorAngle(xs[i], xs[i+1], xs[i+2], xs[j], xs[j+1], xs[j+2]); }
console.log('angle', ((performance.now() - t) / N * 1e6).toFixed(1), 'ns', s > 0);
const a = new AngleAccumulator(180), b = new AngleAccumulator(90);
t = performance.now();
for (let p = 0; p < N; p++) { const d = (p * 0.0000347) % 180; a.add(d, 1); b.add(foldMirror(d), 1); }
console.log('acc x2', ((performance.now() - t) / N * 1e6).toFixed(1), 'ns');
