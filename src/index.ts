/**
 * ackmeans — balanced unsupervised 2D classification of cryo-EM images (ACK-means).
 * The public API.
 */
export { AckmeansError } from './errors.js';
export { info, type NativeInfo } from './native.js';
export { type JobOptions, type Progress } from './job.js';
export { distanceTable, type DistanceTableOptions } from './distances.js';
export { align, type AlignResult, type AlignStats } from './align/align.js';
export { type AlignOptions } from './align/options.js';
export { type ImageProvider, type Images } from './align/provider.js';
