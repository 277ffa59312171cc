// Flag parsing and validation for the CLI's subcommands. A bad flag is a CliUsageError: the
// dispatcher prints it and exits with code 2. Every message says what is valid.

export class CliUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliUsageError';
  }
}

export type FlagType =
  | { kind: 'id'; ids: readonly string[] }
  | { kind: 'int'; min: number; max?: number }
  /** A finite number; `exclusiveMin`: must be greater than it. */
  | { kind: 'number'; exclusiveMin?: number; min?: number; max?: number }
  | { kind: 'boolean' }
  | { kind: 'string' };

export type FlagValue = string | number | boolean;

export interface FlagSpec {
  name: string;
  type: FlagType;
  description: string;
  default?: FlagValue;
  required?: boolean;
}

export interface Subcommand {
  name: string;
  summary: string;
  flags: FlagSpec[];
  /** Switches tfjs to its CPU backend before running (Node has no WebGPU). */
  usesTfjs?: boolean;
  run(flags: Record<string, FlagValue | undefined>): Promise<void> | void;
}

/** What a flag accepts, in words (for --help and error messages). */
export function describeValid(type: FlagType): string {
  switch (type.kind) {
    case 'id':
      return `one of ${type.ids.join(', ')}`;
    case 'int':
      return type.max === undefined ? `an integer ≥ ${type.min}` : `an integer in [${type.min}, ${type.max}]`;
    case 'number': {
      const bounds = [
        type.exclusiveMin !== undefined ? `> ${type.exclusiveMin}` : null,
        type.min !== undefined ? `≥ ${type.min}` : null,
        type.max !== undefined ? `≤ ${type.max}` : null,
      ].filter(Boolean);
      return bounds.length > 0 ? `a number ${bounds.join(' and ')}` : 'a number';
    }
    case 'boolean':
      return 'a switch (no value)';
    case 'string':
      return 'a string';
  }
}

function parseValue(flag: FlagSpec, raw: string): FlagValue {
  const { type } = flag;
  const bad = () => new CliUsageError(`--${flag.name} ${JSON.stringify(raw)}: must be ${describeValid(type)}`);
  switch (type.kind) {
    case 'id':
      if (!type.ids.includes(raw)) throw bad();
      return raw;
    case 'int': {
      const value = Number(raw);
      if (raw.trim() === '' || !Number.isInteger(value) || value < type.min || (type.max !== undefined && value > type.max)) throw bad();
      return value;
    }
    case 'number': {
      const value = Number(raw);
      const ok =
        raw.trim() !== '' &&
        Number.isFinite(value) &&
        (type.exclusiveMin === undefined || value > type.exclusiveMin) &&
        (type.min === undefined || value >= type.min) &&
        (type.max === undefined || value <= type.max);
      if (!ok) throw bad();
      return value;
    }
    case 'boolean':
      throw new CliUsageError(`--${flag.name} takes no value`);
    case 'string':
      return raw;
  }
}

/** Parses `--name value`, `--name=value` and `--switch`; applies defaults; rejects the rest. */
export function parseFlags(argv: readonly string[], specs: readonly FlagSpec[]): Record<string, FlagValue | undefined> {
  const byName = new Map(specs.map((spec) => [spec.name, spec]));
  const values: Record<string, FlagValue | undefined> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new CliUsageError(`unexpected argument ${JSON.stringify(arg)} (flags start with --)`);
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
    const spec = byName.get(name);
    if (!spec) {
      throw new CliUsageError(`unknown flag --${name} (valid: ${specs.map((s) => `--${s.name}`).join(', ')})`);
    }
    if (name in values) throw new CliUsageError(`--${name} given twice`);
    if (spec.type.kind === 'boolean') {
      if (inline !== undefined) throw new CliUsageError(`--${name} takes no value`);
      values[name] = true;
      continue;
    }
    const raw = inline ?? argv[++i];
    if (raw === undefined || (inline === undefined && raw.startsWith('--'))) {
      throw new CliUsageError(`--${name} needs a value: ${describeValid(spec.type)}`);
    }
    values[name] = parseValue(spec, raw);
  }
  for (const spec of specs) {
    if (values[spec.name] !== undefined) continue;
    if (spec.required) throw new CliUsageError(`--${spec.name} is required: ${describeValid(spec.type)}`);
    values[spec.name] = spec.type.kind === 'boolean' ? (spec.default ?? false) : spec.default;
  }
  return values;
}

/** Help text of one subcommand. */
export function subcommandHelp(command: Subcommand): string {
  const lines = [`${command.name}: ${command.summary}`];
  for (const flag of command.flags) {
    const value = flag.type.kind === 'boolean' ? '' : ` <${describeValid(flag.type)}>`;
    const extra = flag.required ? ' (required)' : flag.default !== undefined ? ` (default ${flag.default})` : '';
    lines.push(`  --${flag.name}${value}  ${flag.description}${extra}`);
  }
  return lines.join('\n');
}
