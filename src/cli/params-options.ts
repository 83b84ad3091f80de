/**
 * The classification parameters as command-line options, generated from the one parameter table
 * (src/pipeline/params.ts): our flags (kebab-case of the API names, with help text, range and
 * default), RELION's names for the same things, and a clear refusal of RELION options that
 * ackmeans has no use for.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import {
  type ClassifyParams,
  describeSchema,
  PARAM_NAMES,
  PARAMS,
  type ParamName,
  type ParamSpec,
  paramMessage,
} from '../pipeline/params.js';

/** `maxIter` → `--max-iter`. */
export const flagOf = (name: string): string => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** Commander's attribute for a long flag (`--particle_diameter` → `particle_diameter`, `--max-iter` → `maxIter`). */
const attributeOf = (flag: string): string =>
  flag.replace(/^--(no-)?/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** RELION options ackmeans does not use, and why (the error says so). */
export const RELION_UNUSED: Record<string, string> = {
  tau2_fudge:
    "it regularises RELION's likelihood model; ACK-means has none — --beta sets how strongly class sizes are balanced",
  ctf: 'ackmeans phase-flips with the CTF whenever the input has CTF parameters; --no-phase-flip turns it off',
  ctf_intact_first_peak: 'ackmeans phase-flips (no Wiener filter), which keeps every peak',
  zero_mask: 'ackmeans always applies a soft circular mask of --diameter',
  flatten_solvent: 'ackmeans always applies a soft circular mask of --diameter',
  norm: 'ackmeans always normalises each image (background mean 0, sd 1)',
  scale: 'ackmeans normalises each image, so there is no intensity scale to refine',
  dont_check_norm: 'ackmeans normalises each image itself',
  angpix: 'the pixel size comes from the input (rlnImagePixelSize, the .cs blob or the MRC header)',
  psi_step:
    'ackmeans searches every in-plane angle its polar grid resolves (finer with a finer --align-resolution); there is no step to set',
  oversampling:
    'there is no adaptive oversampling: angles are searched exhaustively, shifts on the --shift-step grid',
  pool: 'a RELION I/O setting; ackmeans needs none',
  dont_combine_weights_via_disc: 'a RELION I/O setting; ackmeans needs none',
  preread_images: 'a RELION I/O setting; ackmeans reads stacks as it needs them',
  scratch_dir: 'a RELION I/O setting; ackmeans needs none',
  memory_per_thread: 'a RELION memory setting; ackmeans needs none',
  pad: 'a RELION interpolation setting; ackmeans needs none',
  skip_gridding: 'a RELION interpolation setting; ackmeans needs none',
  gpu: 'ackmeans runs on the CPU (use --threads)',
  center_classes: 'ackmeans does not re-centre class averages',
};

const isNumber = (p: ParamSpec): boolean => (p.schema.def as { type: string }).type === 'number';

/** Parses one option value with the parameter's schema; the error names the flag as typed. */
function parser(name: ParamName, flag: string) {
  const p: ParamSpec = PARAMS[name];
  return (raw: string): unknown => {
    const n = Number(raw);
    const value = isNumber(p) && raw.trim() !== '' && !Number.isNaN(n) ? n : raw;
    const r = p.schema.safeParse(value);
    if (!r.success) throw new InvalidArgumentError(paramMessage(flag, p.schema, value));
    return r.data;
  };
}

/** The help line of a parameter: what it is, what it accepts, its default, its RELION name. */
function helpOf(p: ParamSpec): string {
  const notes = [];
  if (!isBoolean(p)) notes.push(describeSchema(p.schema));
  if (p.default !== undefined && !isBoolean(p)) notes.push(`default ${String(p.default)}`);
  else if (p.defaultText && !p.negated) notes.push(`default: ${p.defaultText}`);
  if (p.relion) notes.push(`RELION: ${p.relion}`);
  return notes.length ? `${p.help} (${notes.join('; ')})` : p.help;
}

const isBoolean = (p: ParamSpec): boolean => (p.schema.def as { type: string }).type === 'boolean';

/** Adds every classification parameter as an option of `command`, plus RELION's names. */
export function addParamOptions(command: Command): void {
  for (const name of PARAM_NAMES) {
    const p: ParamSpec = PARAMS[name];
    const flag = flagOf(name);
    if (isBoolean(p)) {
      // commander: with --x defined before --no-x, the value stays undefined unless one is given
      if (!p.negated || p.alsoPositive) command.addOption(new Option(flag, helpOf(p)));
      if (p.negated) command.addOption(new Option(`--no-${flag.slice(2)}`, p.negated));
      continue;
    }
    const option = new Option(`${p.short ? `-${p.short}, ` : ''}${flag} <${p.unit ?? 'value'}>`, helpOf(p));
    command.addOption(option.argParser(parser(name, p.short ? `-${p.short}` : flag)));
    if (p.relion)
      command.addOption(
        new Option(`${p.relion} <${p.unit ?? 'value'}>`, `RELION's name for ${flag}`)
          .argParser(parser(name, p.relion))
          .helpGroup('RELION option names:'),
      );
  }
  for (const name of Object.keys(RELION_UNUSED))
    command.addOption(new Option(`--${name} [value]`).hideHelp());
}

/**
 * The parameters given on the command line (our flags or RELION's names; not both for one
 * parameter). Throws a RangeError for a RELION option ackmeans does not use.
 */
export function paramsFromOptions(opts: Record<string, unknown>): Partial<ClassifyParams> {
  for (const name of Object.keys(RELION_UNUSED))
    if (opts[name] !== undefined)
      throw new RangeError(
        `--${name} is a RELION option that ackmeans does not use (${RELION_UNUSED[name]})`,
      );
  const params: Record<string, unknown> = {};
  for (const name of PARAM_NAMES) {
    const p: ParamSpec = PARAMS[name];
    const flag = flagOf(name);
    const ours = opts[attributeOf(flag)];
    if (isBoolean(p)) {
      if (p.negated && !p.alsoPositive ? ours === false : typeof ours === 'boolean') params[name] = ours;
      continue;
    }
    const theirs = p.relion ? opts[attributeOf(p.relion)] : undefined;
    if (ours !== undefined && theirs !== undefined)
      throw new RangeError(`give ${p.short ? `-${p.short}` : flag} or ${p.relion}, not both`);
    const value = ours ?? theirs;
    if (value !== undefined) params[name] = value;
  }
  return params as Partial<ClassifyParams>;
}
