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
