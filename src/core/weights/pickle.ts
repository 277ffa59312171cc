// A restricted unpickler: reads the Python pickles that torch.save writes (protocols 2–5) and
// nothing else. A pickle is a program for a stack machine whose GLOBAL and REDUCE opcodes import and
// call arbitrary Python callables — how a hostile .pth runs code on torch.load. Here nothing is ever
// evaluated: a global is looked up in the caller's allow-list (anything else throws a PickleError
// naming it), and "calling" an allowed one runs the caller's TypeScript handler for it. Opcodes that
// torch.save never emits (INST, OBJ, NEWOBJ, EXT*, PERSID, …) are refused by name too.

export class PickleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PickleError';
  }
}

/** A Python tuple (kept apart from lists, which are plain arrays). */
export class PickleTuple {
  constructor(readonly items: readonly unknown[]) {}
}

/** A Python dict or OrderedDict: insertion-ordered, keys are str/int/bool/None. */
export class PickleDict {
  readonly entries = new Map<PickleKey, unknown>();
  /** The instance __dict__ a BUILD gave it (an OrderedDict state_dict carries `_metadata` there). */
  attributes: PickleDict | null = null;
  constructor(readonly ordered: boolean) {}
}

export type PickleKey = string | number | bigint | boolean | null;

/** An allowed global, as a value on the stack (e.g. torch.FloatStorage inside a persistent id). */
export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}

  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** What REDUCE does with an allowed global: builds a value from the call's arguments (a tuple's items). */
export type GlobalHandler = (args: readonly unknown[]) => unknown;

export interface UnpickleOptions {
  /** Name of the file for messages. */
  source?: string;
  /**
   * The allow-list, by "module.name": the handler REDUCE runs for it, or null for a global that may
   * only be referred to (never called). Any other global is a PickleError.
   */
  globals: Readonly<Record<string, GlobalHandler | null>>;
  /** Resolves BINPERSID's persistent ids (torch: storages); without it BINPERSID is refused. */
  persistentLoad?: (pid: unknown) => unknown;
}

/** Every opcode's name, for messages about the ones refused. */
const OPCODE_NAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT', 0x4a: 'BININT',
  0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID', 0x51: 'BINPERSID', 0x52: 'REDUCE',
  0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING', 0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND',
  0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT', 0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET',
  0x69: 'INST', 0x6a: 'LONG_BINGET', 0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT',
  0x72: 'LONG_BINPUT', 0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT',
  0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1', 0x86: 'TUPLE2', 0x87: 'TUPLE3',
  0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x42: 'BINBYTES', 0x43: 'SHORT_BINBYTES',
  0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS',
  0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX', 0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME', 0x96: 'BYTEARRAY8',
  0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

/** A short description of a value's Python type, for messages. */
export function pickleTypeName(value: unknown): string {
  if (value === null) return 'None';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'bigint') return 'int';
  if (typeof value === 'string') return 'str';
  if (Array.isArray(value)) return 'list';
  if (value instanceof PickleTuple) return 'tuple';
  if (value instanceof PickleDict) return value.ordered ? 'OrderedDict' : 'dict';
  if (value instanceof PickleGlobal) return value.qualifiedName;
  return 'object';
}

/**
 * Runs the pickle in `bytes` with only the opcodes torch.save emits and only `options.globals`,
 * and returns the object it builds. Throws a PickleError (naming the opcode or global, and the byte
 * offset) on anything else, and on truncated or malformed input.
 */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions): unknown {
  return unpickleFrom(bytes, 0, options).value;
}

/** As unpickle, for a pickle starting at byte `start` of `bytes`; `end` is the byte after its STOP
 * (the legacy torch.save format writes several pickles and raw data one after another). */
export function unpickleFrom(bytes: Uint8Array, start: number, options: UnpickleOptions): { value: unknown; end: number } {
  const source = options.source ?? 'pickle';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let at = start;
  let opAt = 0;

  const fail = (problem: string): PickleError => new PickleError(`${source}: ${problem} (at byte ${opAt})`);
  const need = (n: number): number => {
    if (n < 0 || at + n > bytes.length) throw fail(`truncated pickle: needs ${n} more bytes, ${bytes.length - at} left`);
    const begin = at;
    at += n;
    return begin;
  };
  const u8 = () => bytes[need(1)];
  const u16 = () => view.getUint16(need(2), true);
  const u32 = () => view.getUint32(need(4), true);
  const u64 = (): number => {
    const value = view.getBigUint64(need(8), true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw fail(`length ${value} is implausibly large`);
    return Number(value);
  };
  // As Python's unpickler, values below the innermost MARK are out of reach until it is popped.
  const reachable = (): number => stack.length - (marks.length > 0 ? marks[marks.length - 1] : 0);
  const pop = (): unknown => {
    if (reachable() === 0) throw fail('stack underflow');
    return stack.pop();
  };
  const top = (): unknown => {
    if (reachable() === 0) throw fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const mark = marks.pop();
    if (mark === undefined) throw fail('no MARK to pop to');
    return stack.splice(mark);
  };
  const text = (n: number, decoder: TextDecoder): string => {
    const begin = need(n);
    try {
      return decoder.decode(bytes.subarray(begin, begin + n));
    } catch {
      throw fail('a string is not valid UTF-8');
    }
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, at);
    if (end < 0) throw fail('truncated pickle: a GLOBAL name has no end of line');
    return text(end - at + 1, utf8).slice(0, -1);
  };
  const memoGet = (index: number): unknown => {
    if (!memo.has(index)) throw fail(`memo entry ${index} was never stored`);
    return memo.get(index);
  };
  const lookupGlobal = (module: string, name: string): PickleGlobal => {
    const qualified = `${module}.${name}`;
    if (!Object.prototype.hasOwnProperty.call(options.globals, qualified)) {
      throw fail(`forbidden global ${qualified}: not on the allow-list, so nothing was run`);
    }
    return new PickleGlobal(module, name);
  };
  const asKey = (key: unknown): PickleKey => {
    if (key === null || ['string', 'number', 'bigint', 'boolean'].includes(typeof key)) return key as PickleKey;
    throw fail(`a dict key of type ${pickleTypeName(key)} is not supported`);
  };
  const setItems = (target: unknown, items: unknown[]): void => {
    if (!(target instanceof PickleDict)) throw fail(`SETITEM(S) on a ${pickleTypeName(target)}, not a dict`);
    if (items.length % 2 !== 0) throw fail('SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) target.entries.set(asKey(items[i]), items[i + 1]);
  };
  const append = (target: unknown, items: unknown[]): void => {
    if (!Array.isArray(target)) throw fail(`APPEND(S) on a ${pickleTypeName(target)}, not a list`);
    for (const item of items) target.push(item); // (not push(...items): a long list would overflow the call stack)
  };
  const signedLittleEndian = (start: number, n: number): number | bigint => {
    let value = 0n;
    for (let i = n - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[start + i]);
    if (n > 0 && bytes[start + n - 1] & 0x80) value -= 1n << BigInt(8 * n);
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  };

  for (;;) {
    opAt = at;
    const op = u8();
    switch (op) {
      case 0x80: { // PROTO
        const protocol = u8();
        if (protocol > 5) throw fail(`pickle protocol ${protocol} is newer than 5`);
        break;
      }
      case 0x95: // FRAME: only a hint for buffered readers
        u64();
        break;
      case 0x2e: { // STOP
        if (marks.length > 0) throw fail('STOP inside an unclosed MARK');
        if (stack.length !== 1) throw fail(`STOP with ${stack.length} values on the stack, expected 1`);
        return { value: stack[0], end: at };
      }
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new PickleDict(false));
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new PickleTuple([]));
        break;
      case 0x74: // TUPLE
        stack.push(new PickleTuple(popMark()));
        break;
      case 0x85: // TUPLE1
      case 0x86: // TUPLE2
      case 0x87: { // TUPLE3
        const items: unknown[] = [];
        for (let i = op - 0x84; i > 0; i--) items.unshift(pop());
        stack.push(new PickleTuple(items));
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
        stack.push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memoGet(u32()));
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(view.getInt32(need(4), true));
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: { // LONG1
        const n = u8();
        stack.push(signedLittleEndian(need(n), n));
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        stack.push(view.getFloat64(need(8), false));
        break;
      case 0x58: // BINUNICODE
        stack.push(text(u32(), utf8));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(u8(), utf8));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(text(u64(), utf8));
        break;
      case 0x55: // SHORT_BINSTRING (Python 2 str; torch's storage keys in files written by Python 2)
        stack.push(text(u8(), latin1));
        break;
      case 0x54: // BINSTRING
        stack.push(text(view.getInt32(need(4), true), latin1));
        break;
      case 0x63: { // GLOBAL
        const module = line();
        stack.push(lookupGlobal(module, line()));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw fail('STACK_GLOBAL needs two strings');
        stack.push(lookupGlobal(module, name));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const callable = pop();
        if (!(callable instanceof PickleGlobal)) throw fail(`REDUCE calls a ${pickleTypeName(callable)}, not an allowed global`);
        if (!(args instanceof PickleTuple)) throw fail(`REDUCE of ${callable.qualifiedName} with ${pickleTypeName(args)} arguments, not a tuple`);
        const handler = options.globals[callable.qualifiedName];
        if (!handler) throw fail(`${callable.qualifiedName} may be referred to but not called`);
        try {
          stack.push(handler(args.items));
        } catch (error) {
          if (error instanceof PickleError) throw error;
          throw fail(`${callable.qualifiedName}: ${error instanceof Error ? error.message : String(error)}`);
        }
        break;
      }
      case 0x62: { // BUILD: only a dict's __dict__ (an OrderedDict state_dict's _metadata)
        const state = pop();
        const target = top();
        if (!(target instanceof PickleDict) || !(state instanceof PickleDict)) {
          throw fail(`BUILD of a ${pickleTypeName(target)} from a ${pickleTypeName(state)} is not allowed (only a dict's attributes)`);
        }
        target.attributes = state;
        break;
      }
      case 0x73: { // SETITEM
        const value = pop();
        const key = pop();
        setItems(top(), [key, value]);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x61: { // APPEND
        const value = pop();
        append(top(), [value]);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        append(top(), items);
        break;
      }
      case 0x51: { // BINPERSID
        const pid = pop();
        if (!options.persistentLoad) throw fail('a persistent id (BINPERSID) where none is expected');
        try {
          stack.push(options.persistentLoad(pid));
        } catch (error) {
          if (error instanceof PickleError) throw error;
          throw fail(`persistent id: ${error instanceof Error ? error.message : String(error)}`);
        }
        break;
      }
      default: {
        const name = OPCODE_NAMES[op];
        throw fail(name ? `forbidden pickle opcode ${name}` : `unknown pickle opcode 0x${op.toString(16).padStart(2, '0')} (not a pickle?)`);
      }
    }
  }
}
