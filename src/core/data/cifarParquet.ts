/**
 * CIFAR-10 as the Hugging Face hub serves it (dataset `uoft-cs/cifar10`, config `plain_text`): one
 * parquet file per split, one row per image. The `datasets` library writes column `img` (its Image
 * feature) as struct<bytes: binary, path: string> holding a PNG, and `label` (its ClassLabel) as
 * int64. The reader checks the schema before reading a row, decodes every PNG with the caller's
 * decoder (the worker: the browser's; Node: pngjs), and checks each is 32×32 with a label 0–9. Any
 * bad input throws a DataError naming the file (and the row) before a dataset exists.
 *
 * hyparquet is imported here only: the page never imports this module, so the parser stays in the
 * worker's bundle.
 */
import { parquetMetadata, parquetReadObjects, parquetSchema, type AsyncBuffer, type FileMetaData, type SchemaTree } from 'hyparquet';
import type { DecodedPixels } from './imageFolder';
import { CIFAR10_CLASS_NAMES, CIFAR_IMAGE_SIZE, CIFAR_PIXELS_PER_RECORD } from './cifar10';
import { decodedImageProblem, resizeToRgb } from './tasks';
import { DataError, type Dataset } from './types';

export const CIFAR_PARQUET_IMAGE_COLUMN = 'img';
export const CIFAR_PARQUET_LABEL_COLUMN = 'label';
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** PNGs decoded at once: one at a time, createImageBitmap took ~1.8 ms an image in Chromium. */
const DECODES_IN_FLIGHT = 32;

/** Decodes PNG bytes to RGB or RGBA pixels (the worker: createImageBitmap; Node: pngjs). */
export type DecodePng = (png: Uint8Array) => Promise<DecodedPixels>;

export interface CifarParquetOptions {
  /** Shown in error messages (the hub path, or the cached copy's name). */
  fileName: string;
  /** Decodes one PNG; throws (any error) on bytes it cannot read. */
  decode: DecodePng;
  /** Called after each decoded image. */
  onProgress?: (decoded: number, total: number) => void;
}

/** A column's type in words, as the error messages list what was found: `int64`, `binary`,
 * `string`, `struct<bytes: binary, path: string>`, `list<…>`. */
export function describeParquetColumn(column: SchemaTree): string {
  const { element, children } = column;
  let type: string;
  if (children.length > 0) {
    const fields = children.map((child) => `${child.element.name}: ${describeParquetColumn(child)}`).join(', ');
    type = element.converted_type === 'LIST' || element.logical_type?.type === 'LIST' ? `list<${fields}>` : `struct<${fields}>`;
  } else if (element.type === 'BYTE_ARRAY') {
    type = element.converted_type === 'UTF8' || element.logical_type?.type === 'STRING' ? 'string' : 'binary';
  } else if (element.type === 'INT32' || element.type === 'INT64') {
    const integer = element.logical_type?.type === 'INTEGER' ? element.logical_type : null;
    const signed = integer ? integer.isSigned : !(element.converted_type ?? '').startsWith('UINT');
    type = `${signed ? 'int' : 'uint'}${element.type === 'INT32' ? 32 : 64}`;
  } else {
    type = (element.type ?? 'group').toLowerCase();
  }
  return element.repetition_type === 'REPEATED' ? `repeated ${type}` : type;
}

const isPlainInteger = (column: SchemaTree) =>
  column.children.length === 0 &&
  column.element.repetition_type !== 'REPEATED' &&
  (column.element.type === 'INT32' || column.element.type === 'INT64') &&
  (column.element.logical_type === undefined || column.element.logical_type.type === 'INTEGER') &&
  (column.element.converted_type === undefined || /^U?INT_/.test(column.element.converted_type));

const isImageStruct = (column: SchemaTree) =>
  column.element.repetition_type !== 'REPEATED' &&
  column.children.some((child) => child.element.name === 'bytes' && child.children.length === 0 && child.element.type === 'BYTE_ARRAY' && child.element.repetition_type !== 'REPEATED');

/** Throws unless the file has `img` as the datasets library's Image struct and `label` as an integer. */
function checkSchema(metadata: FileMetaData, fileName: string): void {
  const columns = parquetSchema(metadata).children;
  const found = columns.length > 0 ? columns.map((column) => `${column.element.name} (${describeParquetColumn(column)})`).join(', ') : 'none';
  const problems: string[] = [];
  const image = columns.find((column) => column.element.name === CIFAR_PARQUET_IMAGE_COLUMN);
  const label = columns.find((column) => column.element.name === CIFAR_PARQUET_LABEL_COLUMN);
  const expectedImage = `"${CIFAR_PARQUET_IMAGE_COLUMN}" (struct<bytes: binary, path: string>, a PNG per row)`;
  const expectedLabel = `"${CIFAR_PARQUET_LABEL_COLUMN}" (an integer class, 0–9)`;
  if (!image) problems.push(`no column ${expectedImage}`);
  else if (!isImageStruct(image)) problems.push(`column "${CIFAR_PARQUET_IMAGE_COLUMN}" is ${describeParquetColumn(image)}, expected struct<bytes: binary, path: string>`);
  if (!label) problems.push(`no column ${expectedLabel}`);
  else if (!isPlainInteger(label)) problems.push(`column "${CIFAR_PARQUET_LABEL_COLUMN}" is ${describeParquetColumn(label)}, expected an integer class (int64)`);
  if (problems.length > 0) {
    throw new DataError(fileName, `is not CIFAR-10 in the Hugging Face hub's layout: ${problems.join('; ')}. Columns found: ${found}.`);
  }
}

/** The image cell of a row as bytes, or a problem in words. */
function imageBytesOf(cell: unknown): Uint8Array | string {
  if (cell === null || cell === undefined) return 'has no image (null)';
  const bytes = (cell as { bytes?: unknown }).bytes;
  if (bytes === null || bytes === undefined) return 'has no image bytes (null)';
  if (!(bytes instanceof Uint8Array)) return `has image bytes of type ${typeof bytes}`;
  if (bytes.length < PNG_SIGNATURE.length || PNG_SIGNATURE.some((byte, i) => bytes[i] !== byte)) {
    const start = Array.from(bytes.subarray(0, 8), (byte) => byte.toString(16).padStart(2, '0')).join(' ');
    return `is not a PNG (its ${bytes.length} bytes start ${start || '(empty)'}, not the PNG signature 89 50 4e 47 0d 0a 1a 0a)`;
  }
  return bytes;
}

function labelOf(cell: unknown): number | null {
  const value = typeof cell === 'bigint' ? Number(cell) : cell;
  return typeof value === 'number' && Number.isInteger(value) ? value : null;
}

/** Reads the hub's CIFAR-10 parquet (one split) into a 32×32 RGB dataset with labels 0–9. */
export async function readCifar10Parquet(bytes: Uint8Array, options: CifarParquetOptions): Promise<Dataset> {
  const { fileName, decode } = options;
  let metadata: FileMetaData;
  try {
    metadata = parquetMetadata(bytes);
  } catch (error) {
    throw new DataError(fileName, `is not a readable parquet file (${error instanceof Error ? error.message : String(error)})`);
  }
  checkSchema(metadata, fileName);
  const total = Number(metadata.num_rows);
  if (total === 0) throw new DataError(fileName, 'has no rows');

  // Column chunks are sliced out as they are read, never the whole file copied.
  const file: AsyncBuffer = { byteLength: bytes.byteLength, slice: (start, end) => bytes.slice(start, end).buffer };
  const images = new Uint8Array(total * CIFAR_PIXELS_PER_RECORD);
  const labels = new Uint8Array(total);
  let row = 0;
  // A row group at a time: the PNG bytes of one group are held at once, not the whole file's.
  for (const group of metadata.row_groups) {
    const rowStart = row;
    const rowEnd = rowStart + Number(group.num_rows);
    let rows: Record<string, unknown>[];
    try {
      rows = await parquetReadObjects({ file, metadata, columns: [CIFAR_PARQUET_IMAGE_COLUMN, CIFAR_PARQUET_LABEL_COLUMN], rowStart, rowEnd, utf8: false });
    } catch (error) {
      throw new DataError(fileName, `could not be read at rows ${rowStart}–${rowEnd - 1} (${error instanceof Error ? error.message : String(error)})`);
    }
    if (rows.length !== rowEnd - rowStart) throw new DataError(fileName, `gave ${rows.length} rows for rows ${rowStart}–${rowEnd - 1}`);
    // A window of decodes in flight at once (the browser decodes on its own threads); errors are
    // still reported for the first bad row in file order.
    for (let from = 0; from < rows.length; from += DECODES_IN_FLIGHT) {
      const batch = rows.slice(from, from + DECODES_IN_FLIGHT);
      const pngs = batch.map((values) => imageBytesOf(values[CIFAR_PARQUET_IMAGE_COLUMN]));
      const decoded = await Promise.allSettled(pngs.map((png) => (typeof png === 'string' ? Promise.reject(new Error(png)) : decode(png))));
      for (const [i, values] of batch.entries()) {
        const where = `${fileName} row ${row}`;
        const label = labelOf(values[CIFAR_PARQUET_LABEL_COLUMN]);
        if (label === null || label < 0 || label >= CIFAR10_CLASS_NAMES.length) {
          throw new DataError(where, `has label ${String(values[CIFAR_PARQUET_LABEL_COLUMN])}, out of range 0..${CIFAR10_CLASS_NAMES.length - 1}`);
        }
        const png = pngs[i];
        if (typeof png === 'string') throw new DataError(where, png);
        const result = decoded[i];
        if (result.status === 'rejected') {
          const error: unknown = result.reason;
          throw new DataError(where, `is not a readable PNG (${error instanceof Error ? error.message : String(error)})`);
        }
        const pixels = result.value;
        const problem = decodedImageProblem(pixels);
        if (problem) throw new DataError(where, `is not a readable PNG (${problem})`);
        if (pixels.width !== CIFAR_IMAGE_SIZE || pixels.height !== CIFAR_IMAGE_SIZE) {
          throw new DataError(where, `is ${pixels.width}×${pixels.height}, not ${CIFAR_IMAGE_SIZE}×${CIFAR_IMAGE_SIZE} as CIFAR-10's images are`);
        }
        // Same size: this only drops alpha (composited over white, as an imported image's is).
        images.set(resizeToRgb({ ...pixels, name: where }, CIFAR_IMAGE_SIZE, CIFAR_IMAGE_SIZE), row * CIFAR_PIXELS_PER_RECORD);
        labels[row] = label;
        row++;
        options.onProgress?.(row, total);
      }
    }
  }
  if (row !== total) throw new DataError(fileName, `holds ${row} rows in its row groups, but its footer says ${total}`);
  return { images, labels, numClasses: CIFAR10_CLASS_NAMES.length, classNames: CIFAR10_CLASS_NAMES, height: CIFAR_IMAGE_SIZE, width: CIFAR_IMAGE_SIZE };
}
