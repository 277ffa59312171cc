// A progress bar with ETA on stderr. Work is counted in steps (warm-up, timed, profiled); the ETA
// assumes the remaining steps cost what the finished ones did on average.
import { formatDuration } from './format';

const BAR_WIDTH = 24;

export class ProgressBar {
  private done = 0;
  private label = '';
  private readonly started = Date.now();
  private readonly interactive = Boolean(process.stderr.isTTY);
  private lastLine = '';

  constructor(private readonly total: number) {}

  /** Names the work now running (a cell), printed beside the bar. */
  setLabel(label: string): void {
    this.label = label;
    this.render(true);
  }

  /** Prints a finished piece of work above the bar. */
  note(line: string): void {
    if (this.interactive) process.stderr.write(`\r\x1b[2K${line}\n`);
    else process.stderr.write(`${line}\n`);
    this.render(true);
  }

  advance(steps = 1): void {
    this.done = Math.min(this.total, this.done + steps);
    this.render(false);
  }

  finish(): void {
    this.done = this.total;
    this.render(true);
    if (this.interactive) process.stderr.write('\n');
  }

  private render(force: boolean): void {
    const fraction = this.total === 0 ? 1 : this.done / this.total;
    const filled = Math.round(fraction * BAR_WIDTH);
    const elapsed = Date.now() - this.started;
    const eta = this.done > 0 ? formatDuration((elapsed / this.done) * (this.total - this.done)) : '?';
    const line =
      `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${this.done}/${this.total} steps ` +
      `${(fraction * 100).toFixed(0)}%  elapsed ${formatDuration(elapsed)}  ETA ${eta}  ${this.label}`;
    if (this.interactive) {
      process.stderr.write(`\r\x1b[2K${line}`);
    } else if (force || line.split(']')[0] !== this.lastLine.split(']')[0]) {
      // Without a terminal, one line per change of the bar keeps logs readable.
      process.stderr.write(`${line}\n`);
    }
    this.lastLine = line;
  }
}
