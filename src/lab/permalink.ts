// Permalinks: the whole configuration (readable, one short key per field), the hidden controls of
// a teaching link, and after a run a compact results summary, all in the URL hash:
//
//   #v=1&m=mobilenet_v2&w=0.35&res=32&…&t=lr.bs&r=<base64url JSON>
//
// Decoding trusts nothing: every field is parsed and range-checked on its own, so a truncated,
// tampered or foreign link loads every valid field (defaults for the rest) and reports what it
// ignored and why. Unknown keys are never copied into objects, so `__proto__` and friends are inert.
import { FLOP_PHASES, MEMORY_GROUPS } from '../core/ids';
import {
  choiceSchema,
  CONFIG_FIELDS,
  CONFIG_SCHEMA,
  DEFAULT_CONFIG,
  fieldLabel,
  hasErrors,
  isBooleanField,
  isChoiceField,
  isNumberField,
  isTextField,
  textProblem,
  numberProblem,
  validateConfig,
  type ConfigField,
  type LabConfig,
} from './config';
import { isFindingId, type FindingId } from './ids';
import { downsample, SUMMARY_CURVE_POINTS, type RunSummary } from './results';

export const PERMALINK_VERSION = 1;

/** Short key of each configuration field in the link (the schema's `key`: stable across versions of schema 1). */
export const FIELD_KEYS: Readonly<Record<ConfigField, string>> = Object.fromEntries(CONFIG_SCHEMA.map((field) => [field.id, field.key])) as Record<ConfigField, string>;

const VERSION_KEY = 'v';
const HIDDEN_KEY = 't';
const RESULTS_KEY = 'rs';
/** Navigation, not configuration: which view a link opens, and which findings card. */
const VIEW_KEY = 'view';
const FINDING_KEY = 'f';
const FIELD_BY_KEY = new Map(CONFIG_FIELDS.map((field) => [FIELD_KEYS[field], field]));

/** Links longer than this are not read at all (a real one is well under 4 KiB). */
const MAX_HASH_LENGTH = 16_384;
/** A field value longer than this is not a value this lab writes. */
const MAX_VALUE_LENGTH = 64;
/** At most this many "ignored" messages are listed; the rest are counted. */
const MAX_MESSAGES = 12;

export interface DecodedPermalink {
  config: LabConfig;
  results: RunSummary | null;
  /** Controls a teaching link hides. */
  hidden: ConfigField[];
  /** What was ignored and why, in words (plain text: render it as text, never as HTML). */
  ignored: string[];
}

export interface PermalinkContent {
  config: LabConfig;
  results?: RunSummary | null;
  hidden?: readonly ConfigField[];
}

// ── encoding ──────────────────────────────────────────────────────────────────────────────────

function encodeValue(value: LabConfig[ConfigField]): string {
  if (typeof value === 'boolean') return value ? '1' : '0';
  return String(value);
}

export function encodePermalink({ config, results, hidden }: PermalinkContent): string {
  const params = new URLSearchParams();
  params.set(VERSION_KEY, String(PERMALINK_VERSION));
  for (const field of CONFIG_FIELDS) params.set(FIELD_KEYS[field], encodeValue(config[field]));
  if (hidden && hidden.length > 0) params.set(HIDDEN_KEY, hidden.map((field) => FIELD_KEYS[field]).join('.'));
  if (results) params.set(RESULTS_KEY, encodeResults(results));
  return `#${params.toString()}`;
}

/** Four significant digits are plenty for a chart and keep the link short. */
const round = (value: number) => Number(value.toPrecision(4));

function encodeResults(summary: RunSummary): string {
  const compact: CompactResults = {
    lv: summary.labVersion,
    be: summary.backend,
    ad: summary.adapter,
    b: round(summary.baselineAccuracy),
    f: round(summary.finalAccuracy),
    l: round(summary.finalLoss),
    e: summary.epochsRun,
    s: summary.steps,
    x: summary.stoppedEarly ? 1 : 0,
    ts: round(summary.trainSeconds),
    cl: downsample(summary.trainLoss, SUMMARY_CURVE_POINTS).map(round),
    ca: downsample(summary.evalAccuracy, SUMMARY_CURVE_POINTS).map(round),
    mg: MEMORY_GROUPS.map((group) => summary.peakBytesByGroup[group]),
    ms: summary.sumOfGroupMaximaBytes,
    fp: FLOP_PHASES.map((phase) => summary.flopsByPhase[phase]),
  };
  return toBase64Url(JSON.stringify(compact));
}

interface CompactResults {
  lv: string;
  be: string;
  ad: string;
  b: number;
  f: number;
  l: number;
  e: number;
  s: number;
  x: 0 | 1;
  ts: number;
  cl: number[];
  ca: number[];
  mg: number[];
  ms: number;
  fp: number[];
}

function toBase64Url(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(encoded: string): string {
  if (!/^[A-Za-z0-9_-]*$/.test(encoded)) throw new Error('not base64url');
  const binary = atob(encoded.replace(/-/g, '+').replace(/_/g, '/'));
  const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
}

// ── decoding ──────────────────────────────────────────────────────────────────────────────────

/** A value quoted for a message: bounded length, control characters made visible. */
function quote(text: string): string {
  const shown = text.length > 24 ? `${text.slice(0, 24)}…` : text;
  return JSON.stringify(shown);
}

const NUMBER_PATTERN = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** Parses one field's text into a valid value, or says why not. */
function parseField(field: ConfigField, text: string): { value: LabConfig[ConfigField] } | { problem: string } {
  if (isTextField(field)) {
    const problem = textProblem(field, text);
    return problem ? { problem: `${quote(text)}: ${problem.replace(/\.$/, '')}` } : { value: text };
  }
  if (text.length > MAX_VALUE_LENGTH) return { problem: `${text.length} characters long` };
  if (isChoiceField(field)) {
    const choices: readonly string[] = choiceSchema(field).choices;
    return choices.includes(text) ? { value: text as LabConfig[typeof field] } : { problem: `${quote(text)} is not one of ${choices.join(', ')}` };
  }
  if (isBooleanField(field)) {
    if (text === '1' || text === 'true') return { value: true };
    if (text === '0' || text === 'false') return { value: false };
    return { problem: `${quote(text)} is not 0 or 1` };
  }
  if (isNumberField(field)) {
    if (!NUMBER_PATTERN.test(text)) return { problem: `${quote(text)} is not a number` };
    const value = Number(text);
    const problem = numberProblem(field, value);
    return problem ? { problem: `${quote(text)}: ${problem.replace(/\.$/, '').toLowerCase()}` } : { value };
  }
  return { problem: 'not a field of this lab' };
}

/** Reads a permalink hash (with or without its `#`). Never throws. */
export function decodePermalink(hash: string): DecodedPermalink {
  const ignored: string[] = [];
  const defaults = (): DecodedPermalink => ({ config: { ...DEFAULT_CONFIG }, results: null, hidden: [], ignored: boundMessages(ignored) });
  const body = hash.startsWith('#') ? hash.slice(1) : hash;
  if (body.trim() === '') return defaults();
  if (body.length > MAX_HASH_LENGTH) {
    ignored.push(`The link is ${body.length} characters long (at most ${MAX_HASH_LENGTH} are read): loaded the defaults.`);
    return defaults();
  }

  const params = new URLSearchParams(body);
  const seen = new Set<string>();
  const values = new Map<string, string>();
  for (const [key, value] of params) {
    if (seen.has(key)) {
      ignored.push(`${quote(key)} appears more than once: used the first.`);
      continue;
    }
    seen.add(key);
    values.set(key, value);
  }

  // A link that only navigates (`#view=findings&f=…`) carries no configuration to check.
  if ([...values.keys()].every((key) => key === VIEW_KEY || key === FINDING_KEY)) return defaults();

  const versionText = values.get(VERSION_KEY);
  if (versionText === undefined) {
    ignored.push(`The link has no schema version: read it as version ${PERMALINK_VERSION}.`);
  } else if (!/^\d{1,6}$/.test(versionText)) {
    ignored.push(`Schema version ${quote(versionText)} is not a number: read the link as version ${PERMALINK_VERSION}.`);
  } else if (Number(versionText) > PERMALINK_VERSION) {
    ignored.push(`This link was made by a newer lab (schema version ${Number(versionText)}; this lab reads ${PERMALINK_VERSION}): loaded the defaults.`);
    return defaults();
  } else if (Number(versionText) < 1) {
    ignored.push(`Schema version ${Number(versionText)} does not exist: read the link as version ${PERMALINK_VERSION}.`);
  }

  const config: LabConfig = { ...DEFAULT_CONFIG };
  const fromLink = new Set<ConfigField>();
  for (const [key, text] of values) {
    if (key === VERSION_KEY || key === HIDDEN_KEY || key === RESULTS_KEY || key === VIEW_KEY || key === FINDING_KEY) continue;
    const field = FIELD_BY_KEY.get(key);
    if (!field) {
      ignored.push(`Unknown key ${quote(key)} ignored.`);
      continue;
    }
    const parsed = parseField(field, text);
    if ('problem' in parsed) {
      ignored.push(`${fieldLabel(field)}: ${parsed.problem}; used the default (${encodeValue(DEFAULT_CONFIG[field])}).`);
      continue;
    }
    (config as unknown as Record<ConfigField, LabConfig[ConfigField]>)[field] = parsed.value;
    fromLink.add(field);
  }

  // An imported weights file stays in the browser that chose it: the link names the choice only.
  if (config.baseWeights === 'imported') {
    ignored.push(
      `${fieldLabel('baseWeights')}: the link was made with an imported weights file, which cannot travel in a link; used the default (${encodeValue(DEFAULT_CONFIG.baseWeights)}). Choose the file again under Base weights to use it.`,
    );
    config.baseWeights = DEFAULT_CONFIG.baseWeights;
  }

  // Fields valid alone may clash (GaLore with SGD, a rank above every layer's): reset the fields
  // in error to their defaults, then, if that is not enough, everything.
  let issues = validateConfig(config).filter((issue) => issue.severity === 'error');
  for (const issue of issues) {
    ignored.push(`${fieldLabel(issue.field)}: ${issue.message} Used the default (${encodeValue(DEFAULT_CONFIG[issue.field])}).`);
    (config as unknown as Record<ConfigField, LabConfig[ConfigField]>)[issue.field] = DEFAULT_CONFIG[issue.field];
  }
  issues = validateConfig(config);
  if (hasErrors(issues)) {
    ignored.push('The fields together do not make a valid configuration: loaded the defaults.');
    return defaults();
  }

  const hidden = decodeHidden(values.get(HIDDEN_KEY), ignored);
  const resultsText = values.get(RESULTS_KEY);
  const results = resultsText === undefined ? null : decodeResults(resultsText, ignored);
  return { config, results, hidden, ignored: boundMessages(ignored) };
}

function boundMessages(messages: string[]): string[] {
  if (messages.length <= MAX_MESSAGES) return messages;
  return [...messages.slice(0, MAX_MESSAGES), `…and ${messages.length - MAX_MESSAGES} more problems.`];
}

function decodeHidden(text: string | undefined, ignored: string[]): ConfigField[] {
  if (text === undefined || text === '') return [];
  if (text.length > 256) {
    ignored.push('The list of hidden controls is too long: every control is shown.');
    return [];
  }
  const hidden: ConfigField[] = [];
  for (const key of text.split('.')) {
    const field = FIELD_BY_KEY.get(key);
    if (field && !hidden.includes(field)) hidden.push(field);
    else if (!field) ignored.push(`Hidden control ${quote(key)} is not a control of this lab.`);
  }
  return hidden;
}

// Checks of untrusted JSON values.
const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= Number.MAX_SAFE_INTEGER;
const isNonNegative = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;
const isFraction = (value: unknown): value is number => isNonNegative(value) && value <= 1;
const isShortString = (max: number) => (value: unknown): value is string => typeof value === 'string' && value.length <= max;
const isListOf = (check: (item: unknown) => boolean, maxLength: number) => (value: unknown): value is number[] =>
  Array.isArray(value) && value.length <= maxLength && value.every(check);

const RESULT_CHECKS: Readonly<Record<keyof CompactResults, [(value: unknown) => boolean, string]>> = {
  lv: [isShortString(32), 'lab version'],
  be: [isShortString(16), 'backend'],
  ad: [isShortString(160), 'adapter'],
  b: [isFraction, 'baseline accuracy'],
  f: [isFraction, 'final accuracy'],
  l: [isNonNegative, 'final loss'],
  e: [isCount, 'epochs run'],
  s: [isCount, 'steps'],
  x: [(value) => value === 0 || value === 1, 'stopped early'],
  ts: [isNonNegative, 'training time'],
  cl: [isListOf(isNonNegative, SUMMARY_CURVE_POINTS), 'loss curve'],
  ca: [isListOf(isFraction, SUMMARY_CURVE_POINTS), 'accuracy curve'],
  mg: [(value) => isListOf(isCount, MEMORY_GROUPS.length)(value) && value.length === MEMORY_GROUPS.length, 'memory by group'],
  ms: [isCount, 'sum of group maxima'],
  fp: [(value) => isListOf(isCount, FLOP_PHASES.length)(value) && value.length === FLOP_PHASES.length, 'FLOPs by phase'],
};

function decodeResults(text: string, ignored: string[]): RunSummary | null {
  const drop = (why: string) => {
    ignored.push(`The saved results were ignored: ${why}.`);
    return null;
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(fromBase64Url(text));
  } catch {
    return drop('they are not readable (truncated or altered)');
  }
  if (!isRecord(parsed)) return drop('they are not a results record');
  for (const [key, [check, name]] of Object.entries(RESULT_CHECKS)) {
    if (!Object.hasOwn(parsed, key)) return drop(`${name} is missing`);
    if (!check(parsed[key])) return drop(`${name} has an invalid value`);
  }
  const unknown = Object.keys(parsed).filter((key) => !Object.hasOwn(RESULT_CHECKS, key));
  if (unknown.length > 0) ignored.push(`Unknown results keys ignored: ${unknown.slice(0, 4).map(quote).join(', ')}${unknown.length > 4 ? ', …' : ''}.`);
  const compact = parsed as unknown as CompactResults;
  return {
    labVersion: compact.lv,
    backend: compact.be,
    adapter: compact.ad,
    baselineAccuracy: compact.b,
    finalAccuracy: compact.f,
    finalLoss: compact.l,
    epochsRun: compact.e,
    steps: compact.s,
    stoppedEarly: compact.x === 1,
    trainSeconds: compact.ts,
    trainLoss: compact.cl,
    evalAccuracy: compact.ca,
    peakBytesByGroup: Object.fromEntries(MEMORY_GROUPS.map((group, i) => [group, compact.mg[i]])) as RunSummary['peakBytesByGroup'],
    sumOfGroupMaximaBytes: compact.ms,
    flopsByPhase: Object.fromEntries(FLOP_PHASES.map((phase, i) => [phase, compact.fp[i]])) as RunSummary['flopsByPhase'],
  };
}

// ── navigation ─────────────────────────────────────────────────────────────────────────────────

export type LabView = 'findings' | 'lab';

export interface LinkNavigation {
  /** The view the link asks for; null when it names none (a configuration link opens the lab). */
  view: LabView | null;
  /** The findings card it points at (implies the findings view). */
  finding: FindingId | null;
}

/** Which view and card a link opens. Never throws; an unknown view or card is ignored. */
export function decodeNavigation(hash: string): LinkNavigation {
  const body = hash.startsWith('#') ? hash.slice(1) : hash;
  if (body.length > MAX_HASH_LENGTH) return { view: null, finding: null };
  const params = new URLSearchParams(body);
  const viewText = params.get(VIEW_KEY);
  const findingText = params.get(FINDING_KEY);
  const finding = findingText !== null && isFindingId(findingText) ? findingText : null;
  const view = viewText === 'findings' || viewText === 'lab' ? viewText : finding ? 'findings' : null;
  return { view, finding };
}

/** Whether a link holds a configuration (any key besides navigation). */
export function hasConfiguration(hash: string): boolean {
  const body = hash.startsWith('#') ? hash.slice(1) : hash;
  return [...new URLSearchParams(body).keys()].some((key) => key !== VIEW_KEY && key !== FINDING_KEY);
}

/** The link of the findings view, or of one card in it. */
export function encodeFindingsLink(finding: FindingId | null = null): string {
  const params = new URLSearchParams({ [VIEW_KEY]: 'findings' });
  if (finding) params.set(FINDING_KEY, finding);
  return `#${params.toString()}`;
}
