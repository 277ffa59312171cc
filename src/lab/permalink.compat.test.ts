// Links made by the lab before the lab layer existed (v0.1.0, captured with that version's
// encodePermalink and decodePermalink: fixtures/permalinks-v0.1.0.json) still open with the same
// configuration, hidden controls, results and messages, and encode back to the same link.
import { describe, expect, it } from 'vitest';
import captured from './fixtures/permalinks-v0.1.0.json' with { type: 'json' };
import { decodePermalink, encodePermalink } from './permalink';

describe('permalinks of v0.1.0', () => {
  it.each(captured.map((entry, index) => [index, entry] as const))('link %i opens as it did', (_index, { link, decoded }) => {
    const now = decodePermalink(link);
    expect(now).toEqual(decoded);
    if (decoded.ignored.length === 0) {
      expect(encodePermalink({ config: now.config, results: now.results, hidden: now.hidden })).toBe(link);
    }
  });
});
