/**
 * ackmeans — balanced unsupervised 2D classification of cryo-EM images (ACK-means).
 * The public API.
 */
export { AckmeansError } from './errors.js';
export { info, type NativeInfo } from './native.js';
export { type JobOptions, type Progress } from './job.js';
export { distanceTable, type DistanceTableOptions } from './distances.js';
export { project, projectMatrices, type EulerAngles, type ProjectOptions } from './sim/project.js';
export { phantom, type PhantomOptions } from './sim/phantom.js';
export { eulerMatrix, matrixToEuler, viewingDirection, angularDistance, type Matrix3 } from './sim/euler.js';
