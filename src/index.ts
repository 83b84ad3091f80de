/**
 * ackmeans — balanced unsupervised 2D classification of cryo-EM images (ACK-means).
 * The public API. The job server and the HTML reports are separate entry points:
 * `ackmeans/server` (startServer) and `ackmeans/report` (writeClassifyReport, …).
 */
export { AckmeansError } from './errors.js';
export { info, setSimd, simdEnabled, type NativeInfo } from './native.js';
export { type JobOptions, type Progress } from './job.js';
export { distanceTable, type DistanceTableOptions } from './distances.js';
export { align, type AlignResult, type AlignStats } from './align/align.js';
export { type AlignOptions } from './align/options.js';
export { type ImageProvider, type Images } from './align/provider.js';
export { applyAlignment, applyPoses, type AlignmentParameters, type PoseArrays } from './align/apply.js';
export { classAverages, type ClassAverages, type ImageParameters } from './align/average.js';
export { createAlignmentSource, type AlignmentSource, type OwnClassParameters } from './align/source.js';
export {
  cluster,
  runClustering,
  VectorSource,
  METHODS,
  CLUSTERING_DEFAULTS,
  type ClusterOptions,
  type RunClusteringOptions,
  type DissimilaritySource,
  type References,
  type Method,
  type ClusteringOptions,
  type ClusteringResult,
  type ClusteringState,
  type IterationRecord,
} from './cluster/index.js';
export { viewDirection, angularDistance, type AngularDistanceOptions, type Vec3 } from './eval/angles.js';
export { adjustedRandIndex } from './eval/ari.js';
export { type AngularStats } from './eval/histogram.js';
export { type SizeStats, sizeStats } from './eval/sizes.js';
export { evaluateClasses, type ClassesInput, type EvaluateOptions, type Evaluation } from './eval/metrics.js';
export { evaluateFiles, type EvaluateFilesOptions } from './eval/evaluate.js';
export { evaluationToJson, formatEvaluationTable, type LabelledEvaluation } from './eval/format.js';
export * from './io/index.js';
export { project, projectMatrices, type EulerAngles, type ProjectOptions } from './sim/project.js';
export { phantom, type PhantomOptions } from './sim/phantom.js';
export { eulerMatrix, matrixToEuler, type Matrix3 } from './sim/euler.js';
export {
  ctfImage,
  ctfImageFull,
  applyCtf,
  phaseFlip,
  type CtfParameters,
  type CtfBatch,
  type CtfJobOptions,
} from './ctf.js';
export {
  simulate,
  SimulationError,
  type SimulateOptions,
  type SimulateResult,
  type SimulationMap,
} from './sim/simulate.js';
export { classify, type ClassifyOptions, type ClassifyHooks } from './pipeline/classify.js';
export {
  runClassification,
  type RunSummary,
  type RunOptions,
  type ClassifyParams,
  type ClassifyProgress,
} from './pipeline/run.js';
export {
  CLASSIFY_DEFAULTS,
  CLASSIFY_METHODS,
  PIPELINES,
  PARAMS,
  paramsSchema,
  checkParams,
  type ParamName,
} from './pipeline/params.js';
export type { ClassificationResult, ParticlePoses as ClassPoses, TraceRow } from './pipeline/types.js';
export { selectClasses, parseClassList } from './pipeline/select.js';
export { preprocessImages, type PreprocessOptions } from './pipeline/preprocess.js';
export { pca, projectOnBasis, type PcaBasis, type PcaOptions } from './pipeline/pca.js';
export { invariantFeatures } from './pipeline/features.js';
export { applyRelionPose, type RelionPose } from './pipeline/relion.js';
export { runDemo, DEMO_DEFAULTS, type DemoOptions, type DemoResult } from './demo/demo.js';
