import { crc32 as nodeCrc32, deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { makeZip } from '../../../scripts/fixtures/imageArchives';
import { crc32, looksLikeZip, readZipDirectory, readZipEntry, unzip } from './zip';

const text = (value: string) => new TextEncoder().encode(value);
const decode = (bytes: Uint8Array | null) => (bytes ? new TextDecoder().decode(bytes) : null);
/** Compressible and long enough that deflate really compresses. */
const LONG = 'person / no person, '.repeat(200);

describe('zip reader', () => {
  it('reads stored and deflate entries, directories included, in directory order', async () => {
    const zip = makeZip([
      { path: 'vww/' },
      { path: 'vww/person/', method: 'store' },
      { path: 'vww/person/a.txt', data: text('stored bytes'), method: 'store' },
      { path: 'vww/no_person/b.txt', data: text(LONG), method: 'deflate' },
      { path: 'vww/empty.txt', data: new Uint8Array(0), method: 'deflate' },
    ]);
    expect(looksLikeZip(zip)).toBe(true);
    const directory = readZipDirectory(zip, 'vww.zip');
    expect(directory.map((entry) => [entry.path, entry.directory, entry.method])).toEqual([
      ['vww/', true, 0],
      ['vww/person/', true, 0],
      ['vww/person/a.txt', false, 0],
      ['vww/no_person/b.txt', false, 8],
      ['vww/empty.txt', false, 8],
    ]);
    expect(directory[3].compressedSize).toBeLessThan(directory[3].size);
    const entries = await unzip(zip, 'vww.zip');
    expect(entries.map((entry) => [entry.path, decode(entry.bytes)])).toEqual([
      ['vww/', null],
      ['vww/person/', null],
      ['vww/person/a.txt', 'stored bytes'],
      ['vww/no_person/b.txt', LONG],
      ['vww/empty.txt', ''],
    ]);
  });

  it('reads only the entries asked for', async () => {
    const zip = makeZip([
      { path: 'a.png', data: text('image'), method: 'deflate' },
      { path: 'notes.txt', data: text('not wanted'), method: 'deflate' },
    ]);
    const entries = await unzip(zip, 'x.zip', (path) => path.endsWith('.png'));
    expect(entries.map((entry) => decode(entry.bytes))).toEqual(['image', null]);
  });

  it('takes sizes from the central directory, so data descriptors and an archive comment are fine', async () => {
    const zip = makeZip(
      [
        { path: 'cat/1.png', data: text(LONG), method: 'deflate', dataDescriptor: true },
        { path: 'dog/2.png', data: text('short'), method: 'store', dataDescriptor: true },
      ],
      // A comment that contains the end-record signature must not be mistaken for the record.
      'made by a test PK\u0005\u0006 with a fake signature',
    );
    const entries = await unzip(zip, 'finder.zip');
    expect(entries.map((entry) => decode(entry.bytes))).toEqual([LONG, 'short']);
  });

  it('normalises Windows separators and leading ./', async () => {
    const zip = makeZip([{ path: '.\\cat\\1.png', data: text('x'), method: 'store' }]);
    expect(readZipDirectory(zip).map((entry) => entry.path)).toEqual(['cat/1.png']);
  });

  it('agrees with zlib on CRC-32', () => {
    const bytes = text(LONG);
    expect(crc32(bytes)).toBe(nodeCrc32(bytes) >>> 0);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  describe('bad archives are DataErrors naming the archive and the problem', () => {
    const good = makeZip([
      { path: 'cat/1.png', data: text(LONG), method: 'deflate' },
      { path: 'dog/2.png', data: text(LONG), method: 'store' },
    ]);

    it('an empty file', () => {
      expect(() => readZipDirectory(new Uint8Array(0), 'x.zip')).toThrow(/x\.zip: is empty/);
    });

    it('something that is not a zip', () => {
      expect(() => readZipDirectory(text('just some text, no archive at all'), 'notes.zip')).toThrow(/notes\.zip: is not a zip archive/);
    });

    it('a zip cut short: the central directory is gone', () => {
      expect(() => readZipDirectory(good.subarray(0, Math.floor(good.length / 2)), 'cut.zip')).toThrow(/cut\.zip: is truncated/);
    });

    it('a zip whose end record points past its end', () => {
      // Keep the end record but drop bytes before it: the directory offset now lies outside the file.
      const end = good.subarray(good.length - 22);
      const shortened = new Uint8Array([...good.subarray(0, 40), ...end]);
      expect(() => readZipDirectory(shortened, 'cut.zip')).toThrow(/cut\.zip: is truncated or corrupt/);
    });

    it('corrupted deflate data', async () => {
      const zip = makeZip([{ path: 'cat/1.png', data: text(LONG), method: 'deflate' }]);
      const [entry] = readZipDirectory(zip, 'bad.zip');
      const broken = zip.slice();
      // Overwrite the deflate stream with bytes that are not valid deflate (block type 3 is reserved).
      broken.fill(0xff, 30 + 'cat/1.png'.length, 30 + 'cat/1.png'.length + 8);
      await expect(readZipEntry(broken, entry, 'bad.zip')).rejects.toThrow(/bad\.zip: entry "cat\/1\.png" is corrupt/);
    });

    it('a stored entry whose bytes were changed (CRC mismatch)', async () => {
      const zip = makeZip([{ path: 'cat/1.png', data: text('original bytes'), method: 'store' }]);
      const broken = zip.slice();
      broken[30 + 'cat/1.png'.length] ^= 0x01;
      await expect(unzip(broken, 'flipped.zip')).rejects.toThrow(/flipped\.zip: entry "cat\/1\.png" is corrupt: CRC-32/);
    });

    it('an unsupported compression method', async () => {
      const zip = makeZip([{ path: 'cat/1.png', data: text(LONG), method: 'store' }]);
      const patched = zip.slice();
      const central = findCentral(zip);
      patched[central + 10] = 12; // bzip2
      patched[8] = 12;
      await expect(unzip(patched, 'bz.zip')).rejects.toThrow(/bz\.zip: entry "cat\/1\.png" uses compression method 12 \(bzip2\)/);
    });

    it('an encrypted entry', async () => {
      const zip = makeZip([{ path: 'cat/1.png', data: text('secret'), method: 'store' }]);
      const patched = zip.slice();
      patched[findCentral(zip) + 8] |= 1;
      await expect(unzip(patched, 'locked.zip')).rejects.toThrow(/locked\.zip: entry "cat\/1\.png" is encrypted/);
    });

    it('a deflate entry cut inside its data', async () => {
      const deflated = deflateRawSync(Buffer.from(LONG));
      const zip = makeZip([{ path: 'cat/1.png', data: text(LONG), method: 'deflate' }]);
      const [entry] = readZipDirectory(zip);
      expect(entry.compressedSize).toBe(deflated.length);
      // The same directory entry over a file that ends halfway through the data.
      const cut = zip.subarray(0, 30 + 'cat/1.png'.length + Math.floor(deflated.length / 2));
      await expect(readZipEntry(cut, entry, 'cut.zip')).rejects.toThrow(/cut\.zip: entry "cat\/1\.png" is truncated/);
    });
  });
});

/** Offset of the first central directory header. */
function findCentral(zip: Uint8Array): number {
  for (let i = 0; i + 4 <= zip.length; i++) {
    if (zip[i] === 0x50 && zip[i + 1] === 0x4b && zip[i + 2] === 0x01 && zip[i + 3] === 0x02) return i;
  }
  throw new Error('no central directory header');
}
