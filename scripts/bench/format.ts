// Human units for the report and the progress line.

const MIB = 1024 * 1024;

export function formatMiB(bytes: number, digits = 2): string {
  return `${(bytes / MIB).toFixed(digits)} MiB`;
}

export function formatGflop(flops: number): string {
  const gflop = flops / 1e9;
  return `${gflop >= 10 ? gflop.toFixed(1) : gflop >= 0.01 ? gflop.toFixed(3) : gflop.toPrecision(2)} GFLOP`;
}

export function formatRate(gflopPerSecond: number): string {
  return `${gflopPerSecond >= 10 ? gflopPerSecond.toFixed(1) : gflopPerSecond.toFixed(3)} GFLOP/s`;
}

export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
}

export function formatPercent(fraction: number, digits = 1): string {
  return `${(fraction * 100).toFixed(digits)}%`;
}

export function formatRatio(ratio: number): string {
  return `${ratio.toFixed(2)}×`;
}

/** m:ss or h:mm:ss */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}
