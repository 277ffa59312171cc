import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURE_DIR, FIXTURE_MODELS, formulaStateDict, loadTorchFixture } from '../../../scripts/fixtures/torchFixtures';
import {
  f16BitsToNumber,
  numberToF16Bits,
  readSafetensors,
  readSafetensorsBlob,
  writeSafetensors,
  type TensorToWrite,
} from './safetensors';

/** Build a file by hand: header object (serialised as given) + raw data bytes. */
function rawFile(header: unknown, data: Uint8Array = new Uint8Array(0), headerText?: string): Uint8Array {
  const text = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + text.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.byteLength), true);
  out.set(text, 8);
  out.set(data, 8 + text.byteLength);
  return out;
}

describe('safetensors writer', () => {
  it('matches the reference implementation byte for byte (its own test vectors)', () => {
    // huggingface/safetensors, safetensors/src/tensor.rs: test_serialization, test_empty, test_serialization_forced_alignement.
    const attn = { dtype: 'F32' as const, shape: [1, 2, 3], data: [0, 1, 2, 3, 4, 5] };
    expect(Array.from(writeSafetensors({ 'attn.0': attn }))).toEqual([
      64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100, 116, 121, 112, 101, 34, 58, 34, 70,
      51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111,
      102, 102, 115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0,
      64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
    ]);
    expect(Array.from(writeSafetensors({}))).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    expect(Array.from(writeSafetensors({}, { framework: 'pt' }))).toEqual([
      40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95, 95, 34, 58, 123, 34, 102, 114, 97,
      109, 101, 119, 111, 114, 107, 34, 58, 34, 112, 116, 34, 125, 125, 32, 32, 32, 32, 32,
    ]);
    const padded = writeSafetensors({ attn0: { ...attn, shape: [1, 1, 2, 3] } });
    expect(Array.from(padded.subarray(0, 8))).toEqual([72, 0, 0, 0, 0, 0, 0, 0]);
    expect(new TextDecoder().decode(padded.subarray(8, 80))).toBe(
      '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       ',
    );
  });

  it('orders tensors by dtype alignment, then name, as the reference does', () => {
    const bytes = writeSafetensors({
      b: { dtype: 'U8', shape: [3], data: [1, 2, 3] },
      a: { dtype: 'F32', shape: [1], data: [1] },
      c: { dtype: 'I64', shape: [1], data: [7] },
      aa: { dtype: 'F32', shape: [1], data: [2] },
      h: { dtype: 'F16', shape: [1], data: [1] },
      d: { dtype: 'F64', shape: [1], data: [1] },
    });
    expect(readSafetensors(bytes).names).toEqual(['c', 'd', 'a', 'aa', 'h', 'b']);
    expect(((bytes[0] | (bytes[1] << 8)) + 8) % 8).toBe(0);
  });

  it('writes what the fixture script (Python) writes: the fixture weights hash to the recorded SHA-256', () => {
    for (const model of FIXTURE_MODELS) {
      const fixture = loadTorchFixture(model);
      const bytes = writeSafetensors(formulaStateDict(fixture));
      expect(bytes.byteLength).toBe(fixture.weights.file_bytes);
      expect(createHash('sha256').update(bytes).digest('hex'), model).toBe(fixture.weights.file_sha256);
    }
  });

  it('round-trips every dtype with metadata', () => {
    const tensors: Record<string, TensorToWrite> = {
      f32: { dtype: 'F32', shape: [2, 3], data: [0, -1.5, 3.25, 1e-30, -7, 1e30] },
      f64: { dtype: 'F64', shape: [2], data: [0.1, -2] },
      f16: { dtype: 'F16', shape: [4], data: [1, -0.5, 65504, 2 ** -24] },
      bf16: { dtype: 'BF16', shape: [3], data: [1, -3, 2 ** 100] },
      i64: { dtype: 'I64', shape: [3], data: [0, -5, 2 ** 40] },
      i32: { dtype: 'I32', shape: [2], data: [-(2 ** 31), 2 ** 31 - 1] },
      i16: { dtype: 'I16', shape: [2], data: [-32768, 32767] },
      i8: { dtype: 'I8', shape: [2], data: [-128, 127] },
      u8: { dtype: 'U8', shape: [2], data: [0, 255] },
      bool: { dtype: 'BOOL', shape: [3], data: [1, 0, 1] },
      scalar: { dtype: 'F32', shape: [], data: [42] },
      empty: { dtype: 'F32', shape: [0, 4], data: [] },
    };
    const read = readSafetensors(writeSafetensors(tensors, { format: 'pt', note: 'héllo' }));
    expect(read.metadata).toEqual({ format: 'pt', note: 'héllo' });
    expect(Object.keys(read.tensors).sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) {
      expect(read.tensors[name].dtype, name).toBe(t.dtype);
      expect(read.tensors[name].shape, name).toEqual(t.shape);
      expect(Array.from(read.tensors[name].data), name).toEqual(Array.from(t.data as ArrayLike<number>, (v) => (t.dtype === 'F64' || t.dtype === 'F32' ? Math.fround(v) : v)));
    }
    expect(read.tensors.f32.data).toBeInstanceOf(Float32Array);
    expect(read.tensors.f16.data).toBeInstanceOf(Float32Array);
    expect(read.tensors.i64.data).toBeInstanceOf(Float64Array);
    expect(read.tensors.u8.data).toBeInstanceOf(Int32Array);
  });

  it('rounds to half and bfloat16 to nearest even', () => {
    expect(numberToF16Bits(1)).toBe(0x3c00);
    expect(numberToF16Bits(65504)).toBe(0x7bff);
    expect(numberToF16Bits(65520)).toBe(0x7c00); // rounds up to Inf, as torch does
    expect(numberToF16Bits(2 ** -24)).toBe(0x0001);
    expect(numberToF16Bits(2 ** -26)).toBe(0);
    expect(numberToF16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    expect(numberToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (up)
    expect(numberToF16Bits(-2)).toBe(0xc000);
    expect(Number.isNaN(f16BitsToNumber(numberToF16Bits(NaN)))).toBe(true);
    for (let h = 0; h < 0x7c00; h += 37) expect(numberToF16Bits(f16BitsToNumber(h))).toBe(h);
    const bf = readSafetensors(writeSafetensors({ x: { dtype: 'BF16', shape: [2], data: [1 + 2 ** -8, 1 + 3 * 2 ** -8] } }));
    expect(Array.from(bf.tensors.x.data)).toEqual([1, 1 + 2 ** -6]);
  });

  it('rejects bad values on write, naming the tensor', () => {
    expect(() => writeSafetensors({ w: { dtype: 'F32', shape: [2, 2], data: [1, 2, 3] } })).toThrow(/"w".*4 elements but data has 3/);
    expect(() => writeSafetensors({ n: { dtype: 'U8', shape: [1], data: [256] } })).toThrow(/"n".*not a U8/);
    expect(() => writeSafetensors({ n: { dtype: 'I64', shape: [1], data: [2 ** 60] } })).toThrow(/"n".*not a safe integer/);
    expect(() => writeSafetensors({ __metadata__: { dtype: 'F32', shape: [0], data: [] } })).toThrow(/reserved/);
  });
});

describe('safetensors reader', () => {
  it('reads the Python-written fixture input (NCHW float32)', () => {
    const fixture = loadTorchFixture('resnet18');
    const bytes = readFileSync(join(FIXTURE_DIR, fixture.input.file));
    const file = readSafetensors(bytes);
    expect(file.names).toEqual(['x']);
    expect(file.tensors.x.shape).toEqual(fixture.input.shape);
    expect(file.tensors.x.data.length).toBe(fixture.input.shape.reduce((a, b) => a * b, 1));
    // Re-serialising reproduces the file exactly.
    expect(Buffer.from(writeSafetensors({ x: { dtype: 'F32', shape: file.tensors.x.shape, data: file.tensors.x.data } })).equals(bytes)).toBe(true);
  });

  it('reads from a Blob/File and from a sub-view of a larger buffer', async () => {
    const bytes = writeSafetensors({ a: { dtype: 'F32', shape: [2], data: [1, 2] } });
    const file = await readSafetensorsBlob(new File([bytes as Uint8Array<ArrayBuffer>], 'w.safetensors'));
    expect(Array.from(file.tensors.a.data)).toEqual([1, 2]);
    const shifted = new Uint8Array(bytes.byteLength + 3);
    shifted.set(bytes, 3);
    expect(Array.from(readSafetensors(shifted.subarray(3)).tensors.a.data)).toEqual([1, 2]);
  });

  it('rejects malformed files with a clear message naming the key', () => {
    const f32 = (n: number) => new Uint8Array(4 * n);
    expect(() => readSafetensors(new Uint8Array(5))).toThrow(/too short/);
    const tooLong = new Uint8Array(16);
    new DataView(tooLong.buffer).setBigUint64(0, 1000n, true);
    expect(() => readSafetensors(tooLong)).toThrow(/header length 1000 exceeds the 8 bytes/);
    expect(() => readSafetensors(rawFile(null, undefined, '{"a": '))).toThrow(/not valid JSON/);
    expect(() => readSafetensors(rawFile(null, undefined, '[1, 2]'))).toThrow(/does not start with/);
    expect(() => readSafetensors(rawFile({ w: { dtype: 'F33', shape: [1], data_offsets: [0, 4] } }, f32(1)))).toThrow(
      /tensor "w": unsupported dtype "F33"/,
    );
    expect(() => readSafetensors(rawFile({ w: { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] } }, f32(1)))).toThrow(/tensor "w": shape/);
    expect(() => readSafetensors(rawFile({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, f32(1)))).toThrow(
      /tensor "w": data_offsets \[0, 8\] beyond the 4-byte data section/,
    );
    expect(() => readSafetensors(rawFile({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, f32(1)))).toThrow(
      /tensor "w": data_offsets \[0, 4\] span 4 bytes but F32 shape \[2\] needs 8/,
    );
    expect(() =>
      readSafetensors(
        rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, f32(3)),
      ),
    ).toThrow(/tensor "b".*overlap tensor "a"/);
    expect(() => readSafetensors(rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32(2)))).toThrow(/tensor "a".*gap/);
    expect(() => readSafetensors(rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32(2)))).toThrow(/trailing bytes/);
    expect(() => readSafetensors(rawFile({ __metadata__: { n: 1 } }))).toThrow(/"__metadata__"."n" must be a string/);
    const big = new Uint8Array(8);
    new DataView(big.buffer).setBigInt64(0, 2n ** 60n, true);
    expect(() => readSafetensors(rawFile({ step: { dtype: 'I64', shape: [], data_offsets: [0, 8] } }, big))).toThrow(
      /tensor "step".*beyond the exactly representable range/,
    );
  });
});
