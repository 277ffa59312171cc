// Pure bookkeeping of a run, kept apart from tfjs so it is unit-tested: early stopping, the ETA,
// and the throttle that keeps progress messages to a few per second.

export type EarlyStoppingVerdict = 'improved' | 'wait' | 'stop';

/** Stops after `patience` evaluations in a row without a better accuracy than the best so far. */
export class EarlyStopping {
  best = Number.NEGATIVE_INFINITY;
  bestEpoch = -1;
  epochsWithoutImprovement = 0;

  constructor(readonly patience: number) {
    if (!Number.isInteger(patience) || patience < 1) throw new RangeError(`patience must be a positive integer, got ${patience}`);
  }

  /** Records the accuracy after `epoch`; says whether to keep going. */
  update(epoch: number, accuracy: number): EarlyStoppingVerdict {
    if (accuracy > this.best) {
      this.best = accuracy;
      this.bestEpoch = epoch;
      this.epochsWithoutImprovement = 0;
      return 'improved';
    }
    this.epochsWithoutImprovement++;
    return this.epochsWithoutImprovement >= this.patience ? 'stop' : 'wait';
  }
}

/** Seconds left at the average pace so far; 0 when done, Infinity before the first step. */
export function etaSeconds(stepsDone: number, totalSteps: number, elapsedSeconds: number): number {
  if (stepsDone >= totalSteps) return 0;
  if (stepsDone <= 0 || elapsedSeconds <= 0) return Number.POSITIVE_INFINITY;
  return ((totalSteps - stepsDone) * elapsedSeconds) / stepsDone;
}

/** Lets a message through at most every `intervalMs`, and always the first and a forced one. */
export class Throttle {
  private last = Number.NEGATIVE_INFINITY;

  constructor(readonly intervalMs: number) {}

  ready(nowMs: number, force = false): boolean {
    if (!force && nowMs - this.last < this.intervalMs) return false;
    this.last = nowMs;
    return true;
  }
}

/** The test split's size for a number of fine-tuning images: half as many, within [16, 500]. */
export function testImagesFor(trainImages: number): number {
  return Math.min(500, Math.max(16, Math.round(trainImages / 2)));
}

/** Pause/resume/stop of a run, awaited between steps. */
export class RunControl {
  private pausedFlag = false;
  private stoppedFlag = false;
  private wake: (() => void) | null = null;
  /** Aborted by stop(): cancels a download the run is waiting on (nothing of it is cached). */
  private readonly aborter = new AbortController();

  get signal(): AbortSignal {
    return this.aborter.signal;
  }

  get paused(): boolean {
    return this.pausedFlag;
  }
  get stopped(): boolean {
    return this.stoppedFlag;
  }
  pause(): void {
    if (!this.stoppedFlag) this.pausedFlag = true;
  }
  resume(): void {
    this.pausedFlag = false;
    this.wake?.();
  }
  stop(): void {
    this.stoppedFlag = true;
    this.pausedFlag = false;
    this.wake?.();
    this.aborter.abort();
  }
  /** Resolves at once unless paused; then when resumed or stopped. */
  async waitWhilePaused(): Promise<void> {
    while (this.pausedFlag && !this.stoppedFlag) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = null;
    }
  }
}
