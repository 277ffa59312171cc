// Human units: bytes in binary multiples (KiB, MiB, GiB), FLOPs in decimal ones (MFLOPs, GFLOPs).

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;
const FLOP_UNITS = ['FLOPs', 'kFLOPs', 'MFLOPs', 'GFLOPs', 'TFLOPs', 'PFLOPs'] as const;

/** Three significant digits, without trailing zeros lost to toFixed ("1.50" stays "1.50"). */
function threeDigits(value: number): string {
  if (value === 0) return '0';
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function scaled(value: number, base: number, units: readonly string[]): string {
  let unit = 0;
  let scaledValue = value;
  while (Math.abs(scaledValue) >= base && unit < units.length - 1) {
    scaledValue /= base;
    unit++;
  }
  return `${threeDigits(scaledValue)} ${units[unit]}`;
}

export const formatBytes = (bytes: number) => scaled(bytes, 1024, BYTE_UNITS);
export const formatFlops = (flops: number) => scaled(flops, 1000, FLOP_UNITS);

export const MIB = 1024 * 1024;

/** Plain counts with thin grouping ("1,234,567"), for parameter counts. */
export const formatCount = (count: number) => count.toLocaleString('en-US');

export const formatPercent = (fraction: number) => `${(fraction * 100).toFixed(1)}%`;

/** A loss axis tick, at most 5 characters: two decimals, whole numbers from 100, and a short
 * exponent for the huge (or tiny) losses of a diverging run ("5e29", "3e-3"). */
export function formatLossTick(value: number): string {
  const size = Math.abs(value);
  if (size === 0 || (size >= 1e-2 && size < 100)) return value.toFixed(2);
  if (size >= 100 && size < 1e4) return value.toFixed(0);
  return value.toExponential(0).replace('e+', 'e');
}

/** Ticks of a log axis over [min, max] (both > 0): powers of ten, at most about six, the first at or
 * below min and the last at or above max; the domain runs from the first to the last. */
export function decadeTicks(min: number, max: number): { domain: [number, number]; ticks: number[] } {
  const low = Math.floor(Math.log10(min));
  const high = Math.max(Math.ceil(Math.log10(max)), low + 1);
  const step = Math.ceil((high - low) / 5);
  const ticks: number[] = [];
  for (let exponent = low; exponent < high + step; exponent += step) {
    ticks.push(10 ** exponent);
    if (exponent >= high) break;
  }
  return { domain: [ticks[0], ticks[ticks.length - 1]], ticks };
}

/** A value relative to a reference, signed: "−35.2%" (less) or "+12.0%" (more). */
export function formatChange(value: number, reference: number): string {
  const change = value / reference - 1;
  return `${change < 0 ? '−' : '+'}${formatPercent(Math.abs(change))}`;
}

export interface UnitScale {
  /** Divide raw values by this to get values in `unit`. */
  divisor: number;
  unit: string;
}

function scaleFor(maxValue: number, base: number, units: readonly string[]): UnitScale {
  let unit = 0;
  while (maxValue >= base * 0.999 && unit < units.length - 1) {
    maxValue /= base;
    unit++;
  }
  return { divisor: base ** unit, unit: units[unit] };
}

/** One unit for a whole chart axis, so that its ticks are round numbers of that unit. */
export const byteScale = (maxBytes: number) => scaleFor(maxBytes, 1024, BYTE_UNITS);
export const flopScale = (maxFlops: number) => scaleFor(maxFlops, 1000, FLOP_UNITS);

/** An axis tick in a chart's unit (the unit itself is the axis label). */
export const formatTick = (value: number) => String(Number(value.toPrecision(3)));

/** Round tick values from 0 to at least `max`: steps of 1, 2, 2.5 or 5 × 10ᵏ, about `count` ticks. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const rough = max / (count - 1);
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((candidate) => candidate >= rough) ?? 10 * power;
  const ticks: number[] = [];
  for (let tick = 0; ticks.length === 0 || ticks[ticks.length - 1] < max; tick += step) ticks.push(Number(tick.toPrecision(12)));
  return ticks;
}

/** A duration for an ETA: "42 s", "3 min 05 s", "1 h 02 min"; "—" when unknown. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole} s`;
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, '0')} s`;
  return `${Math.floor(whole / 3600)} h ${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')} min`;
}
