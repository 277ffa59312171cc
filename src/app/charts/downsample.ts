// Bounded chart series: a live run can have thousands of steps, but a chart needs a few hundred
// points. Min/max per bucket keeps the spikes (a diverging loss stays visible) where a mean or a
// stride would hide them; the first and last points are always kept.

export interface XY {
  x: number;
  y: number;
}

/**
 * At most `maxPoints` of `points` (sorted by x), in x order: the first, the last, and for each of
 * the buckets between them the points with the smallest and largest y (non-finite y counts as a
 * largest, so a NaN loss is never dropped).
 */
export function downsampleMinMax<T extends XY>(points: readonly T[], maxPoints: number): T[] {
  if (!Number.isInteger(maxPoints) || maxPoints < 1) throw new RangeError(`maxPoints must be a positive integer, got ${maxPoints}`);
  if (points.length <= maxPoints) return [...points];
  if (maxPoints < 4) return maxPoints === 1 ? [points[points.length - 1]] : [points[0], points[points.length - 1]].slice(0, maxPoints);
  const inner = points.length - 2;
  const buckets = Math.floor((maxPoints - 2) / 2);
  const picked: T[] = [points[0]];
  for (let bucket = 0; bucket < buckets; bucket++) {
    const start = 1 + Math.floor((bucket * inner) / buckets);
    const end = 1 + Math.floor(((bucket + 1) * inner) / buckets);
    if (end <= start) continue;
    let low = start;
    let high = start;
    for (let i = start; i < end; i++) {
      const y = points[i].y;
      if (!Number.isFinite(y)) {
        high = i;
        break;
      }
      if (y < points[low].y) low = i;
      if (Number.isFinite(points[high].y) && y > points[high].y) high = i;
    }
    if (low === high) picked.push(points[low]);
    else picked.push(points[Math.min(low, high)], points[Math.max(low, high)]);
  }
  picked.push(points[points.length - 1]);
  return picked;
}
