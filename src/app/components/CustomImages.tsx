// "Your own images": a folder per class, chosen with a folder input, as a zip, or dropped. The files
// go to the training worker by reference (it reads, decodes, resizes and splits them); this shows the
// import's progress, what was imported (classes, images per class, the split) or why it failed.
import { useState, type DragEvent } from 'react';
import { IMAGE_EXTENSIONS } from '../../core/data/imageFolder';
import type { ImageImportSource } from '../../lab/protocol';
import { formatCount } from '../format';
import { useLabStore } from '../store';

type Imported = { source: ImageImportSource; what: string };

/** The files of a folder input: each with its path under the chosen folder's parent. */
function fromFolderInput(files: FileList): Imported | null {
  const list = Array.from(files);
  if (list.length === 0) return null;
  const entries = list.map((file) => ({ path: file.webkitRelativePath || file.name, file }));
  const what = entries[0].path.includes('/') ? entries[0].path.slice(0, entries[0].path.indexOf('/')) : 'the chosen files';
  return { source: { kind: 'files', files: entries }, what };
}

function readDirectory(directory: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = directory.createReader();
  const all: FileSystemEntry[] = [];
  return new Promise((resolve, reject) => {
    // readEntries returns the entries in batches until an empty one.
    const next = () =>
      reader.readEntries((batch) => {
        if (batch.length === 0) resolve(all);
        else {
          all.push(...batch);
          next();
        }
      }, reject);
    next();
  });
}

const fileOf = (entry: FileSystemFileEntry) => new Promise<File>((resolve, reject) => entry.file(resolve, reject));

/** Every file and directory under the dropped entries (directories as 'path/', so empty class folders show). */
async function walk(entry: FileSystemEntry, out: { path: string; file: Blob | null }[]): Promise<void> {
  const path = entry.fullPath.replace(/^\/+/, '');
  if (entry.isFile) out.push({ path, file: await fileOf(entry as FileSystemFileEntry) });
  else if (entry.isDirectory) {
    out.push({ path: `${path}/`, file: null });
    for (const child of await readDirectory(entry as FileSystemDirectoryEntry)) await walk(child, out);
  }
}

/** A drop: one .zip file, or folders (and files) to walk. The entries must be taken before any await. */
async function fromDrop(items: DataTransferItemList, files: FileList): Promise<Imported | null> {
  const entries = Array.from(items)
    .filter((item) => item.kind === 'file')
    .map((item) => item.webkitGetAsEntry?.() ?? null);
  const dropped = Array.from(files);
  if (dropped.length === 1 && /\.zip$/i.test(dropped[0].name) && !entries[0]?.isDirectory) {
    return { source: { kind: 'zip', name: dropped[0].name, file: dropped[0] }, what: dropped[0].name };
  }
  if (entries.some((entry) => entry === null)) {
    // No entry API: plain files only (no folders to name the classes).
    if (dropped.length === 0) return null;
    return { source: { kind: 'files', files: dropped.map((file) => ({ path: file.name, file })) }, what: `${dropped.length} dropped files` };
  }
  const out: { path: string; file: Blob | null }[] = [];
  for (const entry of entries) await walk(entry!, out);
  if (out.length === 0) return null;
  const what = entries.length === 1 ? entries[0]!.name : `${entries.length} dropped folders`;
  return { source: { kind: 'files', files: out }, what };
}

function ImportSummary() {
  const summary = useLabStore((s) => s.customImages);
  const resolution = useLabStore((s) => s.config.resolution);
  if (!summary) return null;
  const total = summary.classes.reduce((sum, entry) => sum + entry.images, 0);
  return (
    <section className="custom-images-summary" aria-label="Imported images" data-testid="custom-images-summary">
      <p>
        <strong>{summary.source}</strong>: {summary.classes.length} classes, {formatCount(total)} images at {summary.size}×{summary.size} ({formatCount(summary.split.train)} train,{' '}
        {formatCount(summary.split.val)} validation, {formatCount(summary.split.test)} test). The model gets a new {summary.classes.length}-way head.
      </p>
      <table className="readout">
        <thead>
          <tr>
            <th scope="col">Class</th>
            <th scope="col">Images</th>
          </tr>
        </thead>
        <tbody>
          {summary.classes.map((entry) => (
            <tr key={entry.name}>
              <td>{entry.name}</td>
              <td>{formatCount(entry.images)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {summary.skippedCount > 0 && (
        <p className="field-hint">
          Skipped {summary.skippedCount} file{summary.skippedCount === 1 ? '' : 's'} that {summary.skippedCount === 1 ? 'is' : 'are'} not an image: {summary.skipped.join(', ')}
          {summary.skippedCount > summary.skipped.length ? ', …' : ''}
        </p>
      )}
      {summary.size !== resolution && (
        <p className="field-warning">
          Imported at {summary.size}×{summary.size}; the model now takes {resolution}×{resolution}, so batches are resized on the fly. Import again to resize from the originals.
        </p>
      )}
    </section>
  );
}

/** The task/data section's input for the custom task. */
export function CustomImages() {
  const task = useLabStore((s) => s.config.task);
  const resolution = useLabStore((s) => s.config.resolution);
  const progress = useLabStore((s) => s.imageImport);
  const error = useLabStore((s) => s.imageImportError);
  const previous = useLabStore((s) => s.customImages);
  const importImages = useLabStore((s) => s.importImages);
  const [dragging, setDragging] = useState(false);
  if (task !== 'custom') return null;

  const onDrop = (event: DragEvent<HTMLDivElement>) => {
    event.preventDefault();
    setDragging(false);
    void fromDrop(event.dataTransfer.items, event.dataTransfer.files).then(
      (imported) => imported && importImages(imported.source, imported.what),
      (cause: unknown) => useLabStore.setState({ imageImportError: `The dropped items could not be read: ${cause instanceof Error ? cause.message : String(cause)}` }),
    );
  };

  return (
    <div className="custom-images">
      <p className="field-hint" id="custom-images-hint">
        One folder per class, named after the class (e.g. <code>person/</code> and <code>no_person/</code> for Visual Wake Words), at least 2 images each;{' '}
        {IMAGE_EXTENSIONS.filter((extension) => extension !== 'jpeg').map((extension) => extension.toUpperCase()).join(', ')}. Every image is resized to {resolution}×{resolution}.
      </p>
      <div className="field">
        <label htmlFor="custom-images-folder">Images folder</label>
        <input
          id="custom-images-folder"
          type="file"
          multiple
          aria-describedby="custom-images-hint"
          ref={(input) => {
            // Not a React prop: set the DOM property so the input picks folders.
            if (input) input.webkitdirectory = true;
          }}
          onChange={(event) => {
            const imported = event.target.files && fromFolderInput(event.target.files);
            if (imported) importImages(imported.source, imported.what);
            event.target.value = '';
          }}
        />
      </div>
      <div className="field">
        <label htmlFor="custom-images-zip">Images zip</label>
        <input
          id="custom-images-zip"
          type="file"
          accept=".zip,application/zip"
          aria-describedby="custom-images-hint"
          onChange={(event) => {
            const file = event.target.files?.[0];
            if (file) importImages({ kind: 'zip', name: file.name, file }, file.name);
            event.target.value = '';
          }}
        />
      </div>
      <div
        className={`drop-zone${dragging ? ' drop-zone-active' : ''}`}
        data-testid="custom-images-drop"
        onDragOver={(event) => {
          event.preventDefault();
          event.dataTransfer.dropEffect = 'copy';
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        …or drop the folder (or a .zip) here
      </div>
      {progress && (
        <p role="status" className="muted">
          Importing {progress.what}… {progress.total > 0 ? `${formatCount(progress.decoded)} of ${formatCount(progress.total)} images` : 'reading the files'}
        </p>
      )}
      {error && (
        <div role="alert" className="banner banner-error">
          <strong>Import failed:</strong> {error}
          {previous ? ` The previous images (${previous.source}) stay selected.` : ' No images are selected yet.'}
        </div>
      )}
      {!previous && !progress && !error && <p className="field-hint">No images imported yet: Start is enabled once they are.</p>}
      <ImportSummary />
    </div>
  );
}
