// The restricted unpickler on hand-assembled pickles (opcode bytes as Python's pickletools lists
// them): what torch.save emits is rebuilt; every other opcode and any global off the allow-list is a
// PickleError naming it, and no handler runs for it. (The .pth files torch wrote: pth.test.ts.)
import { describe, expect, it } from 'vitest';
import { PickleDict, PickleError, PickleGlobal, PickleTuple, unpickle, unpickleFrom, type UnpickleOptions } from './pickle';

const ascii = (s: string): number[] => Array.from(new TextEncoder().encode(s));
const BINUNICODE = (s: string): number[] => {
  const b = ascii(s);
  return [0x58, b.length & 0xff, (b.length >> 8) & 0xff, 0, 0, ...b];
};
const SHORT_BINUNICODE = (s: string): number[] => [0x8c, ascii(s).length, ...ascii(s)];
const GLOBAL = (module: string, name: string): number[] => [0x63, ...ascii(`${module}\n${name}\n`)];
const run = (ops: number[], options: Partial<UnpickleOptions> = {}): unknown =>
  unpickle(new Uint8Array(ops), { source: 't.pkl', globals: {}, ...options });

describe('unpickle', () => {
  it('rebuilds dicts, lists, tuples, ints, floats, strings, None and booleans (protocol 2)', () => {
    // {'a': [1, -2, 300, 70000, -1.5], 'b': (None, True, False), 'c': (), 2**70: 'é', 'd': ('x', 'y', 'z', 'w')}
    const ops = [
      0x80, 2, 0x7d, 0x71, 0, 0x28,
      ...BINUNICODE('a'), 0x5d, 0x71, 1, 0x28, 0x4b, 1, 0x4a, 0xfe, 0xff, 0xff, 0xff, 0x4d, 0x2c, 0x01, 0x4a, 0x70, 0x11, 0x01, 0x00,
      0x47, 0xbf, 0xf8, 0, 0, 0, 0, 0, 0, 0x65,
      ...BINUNICODE('b'), 0x4e, 0x88, 0x89, 0x87,
      ...BINUNICODE('c'), 0x29,
      0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, ...BINUNICODE('é'),
      ...BINUNICODE('d'), 0x28, 0x55, 1, 0x78, ...SHORT_BINUNICODE('y'), ...BINUNICODE('z'), 0x68, 1, 0x74,
      0x75, 0x2e,
    ];
    const value = run(ops) as PickleDict;
    expect(value).toBeInstanceOf(PickleDict);
    expect(value.ordered).toBe(false);
    expect([...value.entries.keys()]).toEqual(['a', 'b', 'c', 2n ** 70n, 'd']);
    expect(value.entries.get('a')).toEqual([1, -2, 300, 70000, -1.5]);
    expect(value.entries.get('b')).toEqual(new PickleTuple([null, true, false]));
    expect(value.entries.get('c')).toEqual(new PickleTuple([]));
    expect(value.entries.get(2n ** 70n)).toBe('é');
    // BINGET 1 fetches the memoised list: the same object, not a copy.
    const d = value.entries.get('d') as PickleTuple;
    expect(d.items.slice(0, 3)).toEqual(['x', 'y', 'z']);
    expect(d.items[3]).toBe(value.entries.get('a'));
  });

  it('runs the handler of an allowed global on REDUCE (GLOBAL and protocol 4 STACK_GLOBAL with FRAME and MEMOIZE)', () => {
    const calls: unknown[][] = [];
    const globals = { 'lab.make': (args: readonly unknown[]) => (calls.push([...args]), { made: args[0] }), 'lab.marker': null };
    expect(run([0x80, 2, ...GLOBAL('lab', 'make'), 0x4b, 7, 0x85, 0x52, 0x2e], { globals })).toEqual({ made: 7 });
    const protocol4 = [
      0x80, 4, 0x95, 30, 0, 0, 0, 0, 0, 0, 0, ...SHORT_BINUNICODE('lab'), 0x94, ...SHORT_BINUNICODE('make'), 0x94, 0x93, 0x94,
      0x68, 0, 0x85, 0x52, 0x2e,
    ];
    expect(run(protocol4, { globals })).toEqual({ made: 'lab' });
    expect(calls).toEqual([[7], ['lab']]);
    // A reference-only global is a value (a storage type inside a persistent id) but cannot be called.
    expect(run([...GLOBAL('lab', 'marker'), 0x2e], { globals })).toEqual(new PickleGlobal('lab', 'marker'));
    expect(() => run([...GLOBAL('lab', 'marker'), 0x29, 0x52, 0x2e], { globals })).toThrow(/^t\.pkl: lab\.marker may be referred to but not called \(at byte 13\)$/);
  });

  it('resolves persistent ids with the caller and BUILDs a dict attributes (an OrderedDict state_dict _metadata)', () => {
    const ordered = () => new PickleDict(true);
    const ops = [
      ...GLOBAL('collections', 'OrderedDict'), 0x29, 0x52, ...BINUNICODE('k'), ...BINUNICODE('pid'), 0x51, 0x73,
      0x7d, ...BINUNICODE('_metadata'), 0x7d, 0x73, 0x62, 0x2e,
    ];
    const value = run(ops, { globals: { 'collections.OrderedDict': ordered }, persistentLoad: (pid) => `loaded ${String(pid)}` }) as PickleDict;
    expect(value.ordered).toBe(true);
    expect(value.entries.get('k')).toBe('loaded pid');
    expect([...value.attributes!.entries.keys()]).toEqual(['_metadata']);
    expect(() => run([...BINUNICODE('pid'), 0x51, 0x2e])).toThrow(/^t\.pkl: a persistent id \(BINPERSID\) where none is expected \(at byte 8\)$/);
  });

  it('refuses globals off the allow-list by name, without running anything', () => {
    let ran = false;
    const globals = { 'collections.OrderedDict': () => ((ran = true), new PickleDict(true)) };
    expect(() => run([0x80, 2, ...GLOBAL('os', 'system'), ...BINUNICODE('echo hi'), 0x85, 0x52, 0x2e], { globals })).toThrow(
      /^t\.pkl: forbidden global os\.system: not on the allow-list, so nothing was run \(at byte 2\)$/,
    );
    expect(() => run([...SHORT_BINUNICODE('builtins'), ...SHORT_BINUNICODE('eval'), 0x93, 0x2e], { globals })).toThrow(/forbidden global builtins\.eval/);
    // A name that only looks like an allowed one, and the allow-list's own inherited properties.
    expect(() => run([...GLOBAL('collections', 'OrderedDict.__init__'), 0x2e], { globals })).toThrow(/forbidden global collections\.OrderedDict\.__init__/);
    expect(() => run([...GLOBAL('constructor', 'x'), 0x2e], { globals: {} })).toThrow(/forbidden global constructor\.x/);
    expect(() => run([...GLOBAL('__proto__', 'toString'), 0x2e], { globals: {} })).toThrow(/forbidden global __proto__\.toString/);
    expect(ran).toBe(false);
  });

  it('refuses every opcode torch.save does not emit, by name', () => {
    const cases: [number[], string][] = [
      [[0x69, ...ascii('os\nsystem\n'), 0x2e], 'INST'],
      [[0x28, 0x6f, 0x2e], 'OBJ'],
      [[0x29, 0x29, 0x81, 0x2e], 'NEWOBJ'],
      [[0x82, 1, 0x2e], 'EXT1'],
      [[0x50, ...ascii('0\n'), 0x2e], 'PERSID'],
      [[0x4e, 0x30, 0x2e], 'POP'],
      [[0x43, 1, 0x41, 0x2e], 'SHORT_BINBYTES'],
    ];
    for (const [ops, name] of cases) expect(() => run(ops), name).toThrow(new RegExp(`^t\\.pkl: forbidden pickle opcode ${name} \\(at byte \\d+\\)$`));
    expect(() => run([0xff])).toThrow(/^t\.pkl: unknown pickle opcode 0xff \(not a pickle\?\) \(at byte 0\)$/);
    expect(() => run([0x80, 6, 0x2e])).toThrow(/pickle protocol 6 is newer than 5/);
  });

  it('refuses malformed and truncated pickles with a PickleError', () => {
    const cases: [number[], RegExp][] = [
      [[0x80, 2, 0x4e], /truncated pickle: needs 1 more bytes, 0 left \(at byte 3\)/], // no STOP
      [[0x58, 0xff, 0xff, 0, 0, 0x61], /truncated pickle: needs 65535 more bytes, 1 left/],
      [[0x63, ...ascii('os'), 0x2e], /a GLOBAL name has no end of line/],
      [[0x68, 3, 0x2e], /memo entry 3 was never stored/],
      [[0x52, 0x2e], /stack underflow/],
      [[0x4e, 0x28, 0x29, 0x73, 0x2e], /stack underflow/], // SETITEM cannot reach below its MARK
      [[0x4e, 0x4e, 0x2e], /STOP with 2 values on the stack, expected 1/],
      [[0x5d, 0x4e, 0x4e, 0x73, 0x2e], /SETITEM\(S\) on a list, not a dict/],
      [[0x5d, 0x7d, 0x62, 0x2e], /BUILD of a list from a dict is not allowed/],
      [[0x4e, 0x29, 0x52, 0x2e], /REDUCE calls a None, not an allowed global/],
      [[0x8c, 2, 0xc3, 0x28, 0x2e], /a string is not valid UTF-8/],
      [[0x7d, 0x5d, 0x4e, 0x73, 0x2e], /a dict key of type list is not supported/],
    ];
    for (const [ops, message] of cases) {
      let error: unknown;
      try {
        run(ops);
      } catch (e) {
        error = e;
      }
      expect(error, message.source).toBeInstanceOf(PickleError);
      expect((error as Error).message, message.source).toMatch(message);
    }
  });

  it('reads pickles written one after another, saying where each ends (the legacy torch.save format)', () => {
    const bytes = new Uint8Array([0x80, 2, 0x4b, 7, 0x2e, 0x80, 2, ...BINUNICODE('x'), 0x2e, 0xaa]);
    expect(unpickleFrom(bytes, 0, { globals: {} })).toEqual({ value: 7, end: 5 });
    expect(unpickleFrom(bytes, 5, { globals: {} })).toEqual({ value: 'x', end: 14 });
  });

  it('names the global whose handler refused its arguments', () => {
    const globals = { 'lab.make': () => { throw new Error('expected 6 arguments'); } };
    expect(() => run([...GLOBAL('lab', 'make'), 0x29, 0x52, 0x2e], { globals })).toThrow(/^t\.pkl: lab\.make: expected 6 arguments \(at byte 11\)$/);
  });
});
