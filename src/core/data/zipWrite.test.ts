import { describe, expect, it } from 'vitest';
import { readZipDirectory, unzip, ZIP_STORED } from './zip';
import { writeZip } from './zipWrite';

describe('writeZip', () => {
  it('writes stored files the lab’s reader (and any unzip) reads back byte for byte', async () => {
    const files = [
      { path: 'adapter/adapter_config.json', bytes: new TextEncoder().encode('{"r": 4}\n') },
      { path: 'adapter/adapter_model.safetensors', bytes: Uint8Array.from({ length: 1000 }, (_, i) => (i * 37) % 256) },
      { path: 'empty.txt', bytes: new Uint8Array(0) },
    ];
    const zip = writeZip(files);
    const directory = readZipDirectory(zip, 'test.zip');
    expect(directory.map((entry) => [entry.path, entry.method, entry.size])).toEqual(files.map((file) => [file.path, ZIP_STORED, file.bytes.length]));
    const back = await unzip(zip, 'test.zip');
    expect(back.map((entry) => entry.path)).toEqual(files.map((file) => file.path));
    back.forEach((entry, i) => expect(Array.from(entry.bytes ?? [])).toEqual(Array.from(files[i].bytes)));
    // Deterministic: the same files give the same bytes (no timestamps).
    expect(Array.from(writeZip(files))).toEqual(Array.from(zip));
  });

  it('refuses duplicate and absolute paths', () => {
    const bytes = new Uint8Array(1);
    expect(() => writeZip([{ path: 'a', bytes }, { path: 'a', bytes }])).toThrow(/same path/);
    expect(() => writeZip([{ path: '/etc/a', bytes }])).toThrow(/bad path/);
  });
});
