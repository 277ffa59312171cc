import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from './flags';

describe('--ui-only', () => {
  it('plans the UI run alone, optionally on another build', () => {
    expect(parseBenchArgs(['--ui-only'])).toMatchObject({ uiOnly: true, uiRun: true, uiDist: null });
    expect(parseBenchArgs(['--ui-only', '--dist', '/tmp/build'])).toMatchObject({ uiOnly: true, uiDist: '/tmp/build' });
    expect(parseBenchArgs(['--quick'])).toMatchObject({ uiOnly: false });
  });

  it('refuses what it cannot do', () => {
    for (const flags of [['--core-only'], ['--no-ui-run'], ['--shard', '1/2']]) {
      expect(() => parseBenchArgs(['--ui-only', ...flags]), flags.join(' ')).toThrow(/--ui-only runs only the UI run/);
    }
    expect(() => parseBenchArgs(['--dist', 'x'])).toThrow(/--dist is for --ui-only/);
  });
});
