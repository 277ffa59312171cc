// The "your own images" half of the store: what was imported (the summary the worker sent back),
// an import in progress, and the last import's error. The worker decodes and keeps the images; a
// failed import changes nothing but the error, so the previous images stay selected. While the
// task is the user's images, Classes follows the number of class folders found (the new head's
// size, which the charts and the run both build from); leaving the task gives the old value back.
import type { StoreApi } from 'zustand';
import type { ImageFolderSummary } from '../core/data/imageFolder';
import type { ImageImportSource, ImportResponse, WorkerRequest } from '../lab/protocol';
import type { ConfigField, LabConfig } from '../lab/config';

export interface ImageImportProgress {
  importId: number;
  /** What is being imported, in words (the zip's or the folder's name). */
  what: string;
  decoded: number;
  total: number;
}

export interface CustomImagesState {
  /** The images the custom task trains on (null: none imported yet). */
  customImages: ImageFolderSummary | null;
  imageImport: ImageImportProgress | null;
  imageImportError: string | null;
  importImages: (source: ImageImportSource, what: string) => void;
  dismissImageImportError: () => void;
  /** A CIFAR-10 archive file the user chose instead of downloading (sent with each CIFAR-10 run). */
  cifarArchive: File | null;
  setCifarArchive: (file: File | null) => void;
}

interface HostState extends CustomImagesState {
  config: LabConfig;
  setField: <F extends ConfigField>(field: F, value: LabConfig[F]) => void;
}

let nextImportId = 1;

export function createCustomImagesSlice<S extends HostState>(
  set: StoreApi<S>['setState'],
  get: StoreApi<S>['getState'],
  send: (request: WorkerRequest) => void,
): { state: CustomImagesState; onImportMessage: (message: ImportResponse) => void; syncClasses: (state: S, previous: S) => void } {
  const patch = (partial: Partial<CustomImagesState>) => set(partial as unknown as Partial<S>);
  /** Classes before the import set it, given back when the task changes. */
  let classesBefore: number | null = null;

  const onImportMessage = (message: ImportResponse) => {
    const progress = get().imageImport;
    if (!progress || progress.importId !== message.importId) return;
    switch (message.type) {
      case 'import_progress':
        patch({ imageImport: { ...progress, decoded: message.decoded, total: message.total } });
        break;
      case 'import_done':
        patch({ customImages: message.summary, imageImport: null, imageImportError: null });
        break;
      case 'import_error':
        patch({ imageImport: null, imageImportError: message.message });
        break;
    }
  };

  /** Keeps Classes equal to the imported class count while the task is the user's images. */
  const syncClasses = (state: S, previous: S) => {
    const custom = state.config.task === 'custom';
    if (custom && state.customImages) {
      const found = state.customImages.classes.length;
      if (state.config.numClasses !== found) {
        classesBefore ??= state.config.numClasses;
        state.setField('numClasses', found);
      }
    } else if (!custom && classesBefore !== null) {
      const restore = classesBefore;
      classesBefore = null;
      // Only when the task alone changed: a link or preset that also sets Classes keeps its value.
      if (previous.config.task === 'custom' && state.config.numClasses === previous.config.numClasses) state.setField('numClasses', restore);
    }
  };

  const state: CustomImagesState = {
    customImages: null,
    imageImport: null,
    imageImportError: null,
    importImages: (source, what) => {
      const importId = nextImportId++;
      const { config } = get();
      patch({ imageImport: { importId, what, decoded: 0, total: 0 }, imageImportError: null });
      send({ type: 'import_images', importId, source, size: config.resolution, seed: config.seed });
    },
    dismissImageImportError: () => patch({ imageImportError: null }),
    cifarArchive: null,
    setCifarArchive: (cifarArchive) => patch({ cifarArchive }),
  };
  return { state, onImportMessage, syncClasses };
}
