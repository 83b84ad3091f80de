/**
 * ackmeans — balanced unsupervised 2D classification of cryo-EM images (ACK-means).
 * The public API.
 */
export { AckmeansError } from './errors.js';
export { info, type NativeInfo } from './native.js';
export { type JobOptions, type Progress } from './job.js';
export { distanceTable, type DistanceTableOptions } from './distances.js';
export { startServer, type ServerOptions, type RunningServer } from './server/serve.js';
