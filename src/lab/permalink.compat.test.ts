// Links made by the lab before the lab layer existed (v0.1.0, captured with that version's
// encodePermalink and decodePermalink: fixtures/permalinks-v0.1.0.json) still open with the same
// configuration, hidden controls, results and messages, and encode back to the same link. Fields
// added since (e.g. hubTrainFile) open at their defaults and are appended to the re-encoded link.
import { describe, expect, it } from 'vitest';
import captured from './fixtures/permalinks-v0.1.0.json' with { type: 'json' };
import { DEFAULT_CONFIG } from './config';
import { decodePermalink, encodePermalink } from './permalink';

describe('permalinks of v0.1.0', () => {
  it.each(captured.map((entry, index) => [index, entry] as const))('link %i opens as it did', (_index, { link, decoded }) => {
    const now = decodePermalink(link);
    expect(now).toEqual({ ...decoded, config: { ...DEFAULT_CONFIG, ...decoded.config } });
    if (decoded.ignored.length === 0) {
      const again = new URLSearchParams(encodePermalink({ config: now.config, results: now.results, hidden: now.hidden }).slice(1));
      const old = new URLSearchParams(link.slice(1));
      for (const [key, value] of old) expect(again.get(key), key).toBe(value);
      expect(decodePermalink(`#${again.toString()}`)).toEqual(now);
    }
  });
});

describe('links made before Depth existed', () => {
  it('open without a message, at the default depth, and re-encode with it appended', () => {
    // A link as the lab wrote it before issue 19 (every field of the time, no `d`).
    const link = encodePermalink({ config: { ...DEFAULT_CONFIG, model: 'resnet18', width: 0.5 } }).replace(/&d=\d+/, '');
    expect(new URLSearchParams(link.slice(1)).has('d')).toBe(false);
    const now = decodePermalink(link);
    expect(now.ignored).toEqual([]);
    expect(now.config).toEqual({ ...DEFAULT_CONFIG, model: 'resnet18', width: 0.5 });
    expect(new URLSearchParams(encodePermalink({ config: now.config }).slice(1)).get('d')).toBe(String(DEFAULT_CONFIG.depth));
  });
});
