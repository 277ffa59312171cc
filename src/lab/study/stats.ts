// Statistics of a study cell over seeds: the mean with a two-sided 95% Student-t confidence
// interval, and the same for paired differences (two methods on the same seeds see the same data
// split, the same base and the same batch order, so their per-seed differences are what varies).

/** t_{0.975, df} for df = 1…30 (two-sided 95%); above 30 the normal 1.96 is within 2%. */
const T_975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086,
  2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

export function tQuantile975(degreesOfFreedom: number): number {
  if (!Number.isInteger(degreesOfFreedom) || degreesOfFreedom < 1) throw new RangeError(`degrees of freedom must be a positive integer, got ${degreesOfFreedom}`);
  return degreesOfFreedom <= T_975.length ? T_975[degreesOfFreedom - 1] : 1.96;
}

export interface Interval {
  mean: number;
  /** 95% interval; equal to the mean when there is a single value (no spread to estimate). */
  low: number;
  high: number;
  /** Sample standard deviation (n − 1); 0 for one value. */
  sd: number;
  n: number;
}

/** Mean and 95% Student-t interval of `values` (mean ± t·s/√n). */
export function meanInterval(values: readonly number[]): Interval {
  const n = values.length;
  if (n === 0) throw new RangeError('meanInterval: no values');
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, low: mean, high: mean, sd: 0, n };
  const sd = Math.sqrt(values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (n - 1));
  const half = (tQuantile975(n - 1) * sd) / Math.sqrt(n);
  return { mean, low: mean - half, high: mean + half, sd, n };
}

/** The interval of the per-seed differences a − b (the two lists in the same seed order). */
export function pairedDifference(a: readonly number[], b: readonly number[]): Interval {
  if (a.length !== b.length) throw new RangeError(`pairedDifference: ${a.length} and ${b.length} values`);
  return meanInterval(a.map((value, i) => value - b[i]));
}
