/**
 * Cryo-EM file formats: MRC2014, lazy stacks, RELION STAR, cryoSPARC .cs, SPIDER, particle sets.
 */
export { FormatError } from './errors.js';
export {
  readMrcHeader,
  readMrc,
  writeMrc,
  openMrcStack,
  type MrcHeader,
  type MrcData,
  type MrcReadOptions,
  type MrcWriteOptions,
} from './mrc.js';
export { type ImageStack } from './stack.js';
export { openStack } from './stack-open.js';
export { createStackWriter, type StackWriter, type StackWriterOptions } from './stack-writer.js';
export {
  StarFile,
  StarBlock,
  readStar,
  parseStar,
  writeStar,
  formatStar,
  formatStarNumber,
  type StarValues,
} from './star.js';
export { type StarTextColumn } from './star-text.js';
export { imageFormat } from './stack-open.js';
export { readCs, parseCs, type CsFile, type CsField, type CsColumn } from './cs.js';
export {
  readSpider,
  writeSpider,
  openSpiderStack,
  type SpiderHeader,
  type SpiderData,
  type SpiderWriteOptions,
} from './spider.js';
export {
  readSpiderDoc,
  writeSpiderDoc,
  parseSpiderDoc,
  formatSpiderDoc,
  type SpiderDoc,
} from './spider-doc.js';
export { openParticles } from './particles.js';
export type { ParticleSet, ParticleCtf, ParticlePoses, OpenParticlesOptions } from './particle-types.js';
export { describeFile, formatSummary, type FileSummary, type ParticleSummary } from './describe.js';
export { checkFile, validateFile, type Checked } from './validate.js';
export { fileKind, type FileKind } from './file-kind.js';
