// PyTorch .pth/.pt files (torch.save, torchvision's downloads). The zip format (torch ≥ 1.6):
//   <archive>/data.pkl     the pickled object: a dict of tensors, each a call of
//                          torch._utils._rebuild_tensor_v2(storage, offset, size, stride, …) whose
//                          storage is a persistent id ('storage', torch.FloatStorage, key, location, numel)
//   <archive>/data/<key>   each storage's raw bytes (stored, not compressed)
//   <archive>/byteorder    'little' or 'big' (absent before torch 2.0: little)
// data.pkl goes through the restricted unpickler (pickle.ts) with only the globals a state_dict
// needs; every tensor's view (offset, size, stride) is checked against its storage before any value
// is read. The result is the state_dict as torchvision.ts's StateDictTensor, in torch layout.
// The legacy format (torch < 1.6) holds the same pickle: readLegacyPth.
import { DataError } from '../data/types';
import { looksLikeZip, readZipDirectory, readZipEntry, type ZipEntry } from '../data/zip';
import { PickleDict, PickleError, PickleGlobal, PickleTuple, pickleTypeName, unpickleFrom, type GlobalHandler } from './pickle';
import { dtypeByteSize, f16BitsToNumber, type SafetensorsDtype, type TensorData } from './safetensors';
import type { StateDictTensor } from './torchvision';

export class PthError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PthError';
  }
}

/** torch's storage classes (what the persistent id names) → the safetensors dtype of their elements. */
const STORAGE_DTYPES: Record<string, SafetensorsDtype> = {
  DoubleStorage: 'F64', FloatStorage: 'F32', HalfStorage: 'F16', BFloat16Storage: 'BF16',
  LongStorage: 'I64', IntStorage: 'I32', ShortStorage: 'I16', CharStorage: 'I8', ByteStorage: 'U8', BoolStorage: 'BOOL',
};

/** A storage as the pickle refers to it; its bytes are read from the zip afterwards. */
class StorageRef {
  constructor(
    readonly key: string,
    readonly dtype: SafetensorsDtype,
    readonly numel: number,
  ) {}
}

/** A tensor as the pickle describes it: a strided view of a storage. */
class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

/** The first bytes of a torch.save file: a zip (torch ≥ 1.6), or a pickle (the legacy format). */
export function looksLikePth(bytes: Uint8Array): boolean {
  return looksLikeZip(bytes) || isLegacyPth(bytes);
}

/** The legacy format starts with a pickled magic number: PROTO 2, LONG1 of 0x1950a86a20f9469cfc6c. */
function isLegacyPth(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0x80 && bytes[1] === 0x02 && bytes[2] === 0x8a;
}

const asInt = (value: unknown, what: string): number => {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new Error(`${what} is ${String(value)}, not a non-negative integer`);
  return value;
};

const asIntTuple = (value: unknown, what: string): number[] => {
  if (!(value instanceof PickleTuple)) throw new Error(`${what} is a ${pickleTypeName(value)}, not a tuple`);
  return value.items.map((item, i) => asInt(item, `${what}[${i}]`));
};

/** A tensor from the first four arguments of torch's _rebuild_tensor(_v2): storage, offset, size, stride. */
function tensorRef([storage, offset, size, stride]: readonly unknown[]): TensorRef {
  if (!(storage instanceof StorageRef)) throw new Error(`the storage is a ${pickleTypeName(storage)}`);
  const shape = asIntTuple(size, 'size');
  const strides = asIntTuple(stride, 'stride');
  if (shape.length !== strides.length) throw new Error(`size has ${shape.length} dimensions but stride ${strides.length}`);
  return new TensorRef(storage, asInt(offset, 'storage offset'), shape, strides);
}

/** What data.pkl may use: an (Ordered)dict of tensors or parameters, storage types only as persistent ids. */
function allowedGlobals(): Record<string, GlobalHandler | null> {
  const globals: Record<string, GlobalHandler | null> = {
    'collections.OrderedDict': (args) => {
      if (args.length !== 0) throw new Error('OrderedDict is built empty in a torch.save file');
      return new PickleDict(true);
    },
    // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
    'torch._utils._rebuild_tensor_v2': (args) => {
      if (args.length < 6 || args.length > 7) throw new Error(`${args.length} arguments, expected 6 or 7`);
      return tensorRef(args);
    },
    // torch before 0.4: (storage, storage_offset, size, stride)
    'torch._utils._rebuild_tensor': (args) => {
      if (args.length !== 4) throw new Error(`${args.length} arguments, expected 4`);
      return tensorRef(args);
    },
    // An nn.Parameter: (tensor, requires_grad, backward_hooks)
    'torch._utils._rebuild_parameter': (args) => {
      if (args.length !== 3 || !(args[0] instanceof TensorRef)) throw new Error('expected (tensor, requires_grad, backward_hooks)');
      return args[0];
    },
  };
  for (const name of Object.keys(STORAGE_DTYPES)) globals[`torch.${name}`] = null;
  return globals;
}

/**
 * Reads a torch.save'd state_dict (the zip format, or the legacy one of torch < 1.6) into tensors by
 * key, in torch layout. Throws a PthError (or, for a forbidden pickle, a PickleError) naming the
 * problem; returns only after every tensor was read and checked.
 */
export async function readPth(input: Uint8Array | ArrayBuffer, source = 'pth'): Promise<Record<string, StateDictTensor>> {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  if (isLegacyPth(bytes)) return readLegacyPth(bytes, source);
  if (!looksLikeZip(bytes)) throw new PthError(`${source} is not a PyTorch file (a torch.save zip archive)`);

  let entries: ZipEntry[];
  try {
    entries = readZipDirectory(bytes, source);
  } catch (error) {
    throw asPthError(error);
  }
  const pickles = entries.filter((e) => /^[^/]+\/data\.pkl$/.test(e.path));
  if (pickles.length !== 1) {
    throw new PthError(`${source}: ${pickles.length === 0 ? 'no' : pickles.length} <archive>/data.pkl in the zip (not a torch.save file?)`);
  }
  const prefix = pickles[0].path.slice(0, -'data.pkl'.length);
  const byPath = new Map(entries.map((e) => [e.path, e]));
  const read = async (path: string): Promise<Uint8Array> => {
    const entry = byPath.get(path);
    if (!entry) throw new PthError(`${source}: ${path} is missing from the zip`);
    try {
      return await readZipEntry(bytes, entry, source);
    } catch (error) {
      throw asPthError(error);
    }
  };

  let littleEndian = true;
  if (byPath.has(`${prefix}byteorder`)) {
    const order = new TextDecoder().decode(await read(`${prefix}byteorder`));
    if (order !== 'little' && order !== 'big') throw new PthError(`${source}: byteorder is "${order}", expected "little" or "big"`);
    littleEndian = order === 'little';
  }

  const { stateDict } = unpickleStateDict(await read(pickles[0].path), 0, source, 'data.pkl');
  const raw = new Map<string, Uint8Array>();
  for (const storage of stateDict.storages.values()) raw.set(storage.key, await read(`${prefix}data/${storage.key}`));
  return tensorsOf(stateDict, raw, littleEndian, source);
}

/** The legacy format's first pickle. */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL_VERSION = 1001;

/**
 * The legacy format (torch < 1.6, or _use_new_zipfile_serialization=False): pickles one after another — the magic number, the protocol version, system info
 * (byte order), the state_dict (persistent ids ('storage', type, key, location, numel, view)), the
 * sorted storage keys — then each storage as an int64 element count and its raw bytes.
 */
function readLegacyPth(bytes: Uint8Array, source: string): Record<string, StateDictTensor> {
  const header = (start: number, what: string) => unpickleFrom(bytes, start, { source: `${source} (${what})`, globals: {} });
  const magic = header(0, 'magic number');
  if (magic.value !== LEGACY_MAGIC) throw new PthError(`${source} is not a PyTorch file (its first pickle is not torch.save's magic number)`);
  const version = header(magic.end, 'protocol version');
  if (version.value !== LEGACY_PROTOCOL_VERSION) throw new PthError(`${source}: legacy protocol version ${String(version.value)}, expected ${LEGACY_PROTOCOL_VERSION}`);
  const sysInfo = header(version.end, 'system info');
  const order = sysInfo.value instanceof PickleDict ? sysInfo.value.entries.get('little_endian') : undefined;
  if (typeof order !== 'boolean') throw new PthError(`${source}: the system info does not say the byte order (little_endian)`);
  const { stateDict, end } = unpickleStateDict(bytes, sysInfo.end, source, 'state_dict');
  const keys = header(end, 'storage keys');
  if (!Array.isArray(keys.value) || !keys.value.every((k) => typeof k === 'string')) throw new PthError(`${source}: the storage keys are not a list of str`);

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const raw = new Map<string, Uint8Array>();
  let at = keys.end;
  for (const key of keys.value as string[]) {
    const storage = stateDict.storages.get(key);
    if (!storage) throw new PthError(`${source}: storage "${key}" is written but no tensor uses it`);
    if (at + 8 > bytes.length) throw new PthError(`${source}: is truncated: storage "${key}" is missing (was the download or copy cut short?)`);
    const count = Number(view.getBigInt64(at, order));
    const length = count * dtypeByteSize(storage.dtype);
    if (count !== storage.numel) throw new PthError(`${source}: storage "${key}" holds ${count} elements, the state_dict says ${storage.numel}`);
    if (at + 8 + length > bytes.length) {
      throw new PthError(`${source}: is truncated: storage "${key}" needs ${length} bytes, ${bytes.length - at - 8} are left (was the download or copy cut short?)`);
    }
    raw.set(key, bytes.subarray(at + 8, at + 8 + length));
    at += 8 + length;
  }
  return tensorsOf(stateDict, raw, order, source);
}

/** The pickled state_dict: its tensors (strided views) by key, and the storages they use by key. */
interface PickledStateDict {
  tensors: [string, TensorRef][];
  storages: Map<string, StorageRef>;
}

/** Unpickles the state_dict at `start` of `bytes` (`what`: its name in messages) with the allowed globals only. */
function unpickleStateDict(bytes: Uint8Array, start: number, source: string, what: string): { stateDict: PickledStateDict; end: number } {
  const storages = new Map<string, StorageRef>();
  // The zip format's persistent id has 5 items; the legacy one adds a view (None since torch 0.4).
  const persistentLoad = (pid: unknown): StorageRef => {
    if (!(pid instanceof PickleTuple) || pid.items.length < 5 || pid.items.length > 6 || pid.items[0] !== 'storage') {
      throw new Error(`expected ('storage', type, key, location, numel), got a ${pickleTypeName(pid)}`);
    }
    const [, type, key, , numel, view] = pid.items;
    if (view !== undefined && view !== null) throw new Error('a storage view (torch before 0.4) is not supported: re-save the file with a recent torch');
    if (!(type instanceof PickleGlobal) || type.module !== 'torch' || !(type.name in STORAGE_DTYPES)) {
      throw new Error(`storage type ${pickleTypeName(type)} is not one of torch.${Object.keys(STORAGE_DTYPES).join(', torch.')}`);
    }
    if (typeof key !== 'string' || !/^[A-Za-z0-9_]+$/.test(key)) throw new Error(`storage key ${String(key)} is not a plain name`);
    const storage = new StorageRef(key, STORAGE_DTYPES[type.name], asInt(numel, 'storage numel'));
    const seen = storages.get(key);
    if (seen && (seen.dtype !== storage.dtype || seen.numel !== storage.numel)) {
      throw new Error(`storage "${key}" is referred to as ${seen.numel} × ${seen.dtype} and as ${storage.numel} × ${storage.dtype}`);
    }
    if (!seen) storages.set(key, storage);
    return seen ?? storage;
  };

  let root: unknown;
  let end: number;
  try {
    ({ value: root, end } = unpickleFrom(bytes, start, { source: `${source} (${what})`, globals: allowedGlobals(), persistentLoad }));
  } catch (error) {
    if (error instanceof PickleError && /forbidden global/.test(error.message)) {
      throw new PickleError(`${error.message}. A .pth for the lab holds a state_dict of tensors only (torch.save(model.state_dict(), path)), not a whole model or other objects.`);
    }
    throw error;
  }
  if (!(root instanceof PickleDict)) {
    throw new PthError(`${source} holds a ${pickleTypeName(root)}, not a state_dict (a dict of tensors): save it with torch.save(model.state_dict(), path)`);
  }
  const tensors: [string, TensorRef][] = [];
  const notTensors: string[] = [];
  for (const [key, value] of root.entries) {
    if (typeof key !== 'string') throw new PthError(`${source}: a state_dict key is a ${pickleTypeName(key)}, not a str`);
    if (value instanceof TensorRef) tensors.push([key, value]);
    else notTensors.push(`"${key}" (${pickleTypeName(value)})`);
  }
  if (notTensors.length > 0) {
    const keys = notTensors.slice(0, 5).join(', ') + (notTensors.length > 5 ? `, … ${notTensors.length - 5} more` : '');
    throw new PthError(`${source} is not a plain state_dict: ${keys} ${notTensors.length === 1 ? 'is' : 'are'} not a tensor. Save the model's state_dict itself: torch.save(model.state_dict(), path)`);
  }
  // Every view is checked before any storage is read.
  for (const [key, tensor] of tensors) checkView(key, tensor, source);
  return { stateDict: { tensors, storages }, end };
}

/** The tensors' values from their storages' bytes (each storage read once: tensors may share one). */
function tensorsOf(stateDict: PickledStateDict, raw: Map<string, Uint8Array>, littleEndian: boolean, source: string): Record<string, StateDictTensor> {
  for (const storage of stateDict.storages.values()) {
    const data = raw.get(storage.key);
    const needed = storage.numel * dtypeByteSize(storage.dtype);
    if (!data) throw new PthError(`${source}: storage "${storage.key}" is missing`);
    if (data.length !== needed) {
      throw new PthError(`${source}: storage "${storage.key}" has ${data.length} bytes, but ${storage.numel} × ${storage.dtype} need ${needed}`);
    }
  }
  const out: Record<string, StateDictTensor> = {};
  for (const [key, tensor] of stateDict.tensors) {
    out[key] = { dtype: tensor.storage.dtype, shape: tensor.shape, data: gather(tensor, raw.get(tensor.storage.key)!, littleEndian, key, source) };
  }
  return out;
}

function asPthError(error: unknown): Error {
  if (error instanceof DataError) return new PthError(error.message, { cause: error });
  return error instanceof Error ? error : new PthError(String(error));
}

/** The view must stay inside its storage: offset + Σ (size_k − 1)·stride_k < numel. */
function checkView(key: string, tensor: TensorRef, source: string): void {
  const count = tensor.shape.reduce((a, b) => a * b, 1);
  if (count === 0) return;
  const last = tensor.shape.reduce((sum, size, k) => sum + (size - 1) * tensor.stride[k], tensor.offset);
  if (last >= tensor.storage.numel) {
    throw new PthError(
      `${source}: tensor "${key}" (size [${tensor.shape.join(', ')}], stride [${tensor.stride.join(', ')}], offset ${tensor.offset}) ` +
        `reaches element ${last} of storage "${tensor.storage.key}", which holds ${tensor.storage.numel}`,
    );
  }
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Row-major without gaps (a dimension of size 1 may have any stride). */
function isContiguous(tensor: TensorRef): boolean {
  let expected = 1;
  for (let k = tensor.shape.length - 1; k >= 0; k--) {
    if (tensor.shape[k] !== 1 && tensor.stride[k] !== expected) return false;
    expected *= tensor.shape[k];
  }
  return true;
}

/** The view's elements in row-major order, decoded as safetensors.ts does (floats → Float32Array, I64 → exact Float64Array, small ints → Int32Array). */
function gather(tensor: TensorRef, bytes: Uint8Array, littleEndian: boolean, key: string, source: string): TensorData {
  const { dtype } = tensor.storage;
  const count = tensor.shape.reduce((a, b) => a * b, 1);
  const size = dtypeByteSize(dtype);
  if (dtype === 'F32' && littleEndian === HOST_LITTLE_ENDIAN && isContiguous(tensor)) {
    // The common case (a parameter saved as itself): one copy, into a fresh aligned buffer.
    const copy = new Uint8Array(count * 4);
    copy.set(bytes.subarray(tensor.offset * 4, (tensor.offset + count) * 4));
    return new Float32Array(copy.buffer);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const read = elementReader(dtype, view, littleEndian);
  const out = dtype === 'I64' ? new Float64Array(count) : dtype === 'F64' || dtype === 'F32' || dtype === 'F16' || dtype === 'BF16' ? new Float32Array(count) : new Int32Array(count);
  const rank = tensor.shape.length;
  const index = new Array<number>(rank).fill(0);
  let element = tensor.offset;
  for (let i = 0; i < count; i++) {
    const value = read(element * size);
    if (typeof value === 'bigint') {
      if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
        throw new PthError(`${source}: tensor "${key}": int64 element ${i} = ${value} is beyond the exactly representable range of a JS number`);
      }
      out[i] = Number(value);
    } else out[i] = value;
    // Next multi-index, last axis fastest, tracking the storage element.
    for (let k = rank - 1; k >= 0; k--) {
      index[k]++;
      element += tensor.stride[k];
      if (index[k] < tensor.shape[k]) break;
      element -= tensor.stride[k] * tensor.shape[k];
      index[k] = 0;
    }
  }
  return out;
}

function elementReader(dtype: SafetensorsDtype, view: DataView, le: boolean): (byte: number) => number | bigint {
  switch (dtype) {
    case 'F64': return (b) => view.getFloat64(b, le);
    case 'F32': return (b) => view.getFloat32(b, le);
    case 'F16': return (b) => f16BitsToNumber(view.getUint16(b, le));
    case 'BF16': {
      const f = new Float32Array(1);
      const u = new Uint32Array(f.buffer);
      return (b) => {
        u[0] = view.getUint16(b, le) << 16;
        return f[0];
      };
    }
    case 'I64': return (b) => view.getBigInt64(b, le);
    case 'I32': return (b) => view.getInt32(b, le);
    case 'I16': return (b) => view.getInt16(b, le);
    case 'I8': return (b) => view.getInt8(b);
    case 'U8':
    case 'BOOL': return (b) => view.getUint8(b);
    case 'U64': case 'U32': case 'U16':
      throw new PthError(`no torch storage holds ${dtype}`);
  }
}
