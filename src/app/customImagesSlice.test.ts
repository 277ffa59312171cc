// The store's half for the user's images: only the newest import's answer counts, a failed import
// keeps the previous images, and Classes follows the imported class count while the task is the
// user's images (and comes back when it is not).
import { describe, expect, it } from 'vitest';
import { createStore } from 'zustand/vanilla';
import type { ImageFolderSummary } from '../core/data/imageFolder';
import type { WorkerRequest } from '../lab/protocol';
import { DEFAULT_CONFIG, type ConfigField, type LabConfig } from '../lab/config';
import { createCustomImagesSlice, type CustomImagesState } from './customImagesSlice';

interface TestState extends CustomImagesState {
  config: LabConfig;
  setField: <F extends ConfigField>(field: F, value: LabConfig[F]) => void;
}

const summary = (source: string, classes: string[]): ImageFolderSummary => ({
  source,
  root: `${source}/`,
  size: 32,
  classes: classes.map((name) => ({ name, images: 3 })),
  split: { train: classes.length, val: classes.length, test: classes.length },
  skipped: [],
  skippedCount: 0,
});

function setup() {
  const sent: WorkerRequest[] = [];
  let slice!: ReturnType<typeof createCustomImagesSlice<TestState>>;
  const store = createStore<TestState>()((set, get) => {
    slice = createCustomImagesSlice<TestState>(set, get, (request) => sent.push(request));
    return {
      ...slice.state,
      config: { ...DEFAULT_CONFIG },
      setField: (field, value) => set((state) => ({ config: { ...state.config, [field]: value } })),
    };
  });
  store.subscribe((state, previous) => slice.syncClasses(state, previous));
  const source = { kind: 'zip' as const, name: 'x.zip', file: new Blob([]) };
  const importId = () => (sent.at(-1) as Extract<WorkerRequest, { type: 'import_images' }>).importId;
  return { store, slice, sent, source, importId };
}

describe('custom images slice', () => {
  it('asks the worker at the model’s resolution and seed, and keeps the last good import on failure', () => {
    const { store, slice, sent, source, importId } = setup();
    store.getState().setField('resolution', 48);
    store.getState().importImages(source, 'vww');
    expect(sent.at(-1)).toMatchObject({ type: 'import_images', size: 48, seed: 0, source });
    expect(store.getState().imageImport).toMatchObject({ what: 'vww', decoded: 0, total: 0 });
    slice.onImportMessage({ type: 'import_progress', importId: importId(), decoded: 2, total: 6 });
    expect(store.getState().imageImport).toMatchObject({ decoded: 2, total: 6 });
    slice.onImportMessage({ type: 'import_done', importId: importId(), summary: summary('vww', ['no_person', 'person']) });
    expect(store.getState()).toMatchObject({ imageImport: null, imageImportError: null, customImages: { source: 'vww' } });

    store.getState().importImages(source, 'bad.zip');
    slice.onImportMessage({ type: 'import_error', importId: importId(), message: 'bad.zip: is truncated' });
    expect(store.getState()).toMatchObject({ imageImport: null, imageImportError: 'bad.zip: is truncated', customImages: { source: 'vww' } });
  });

  it('ignores the answers of an import that a newer one replaced', () => {
    const { store, slice, source, importId } = setup();
    store.getState().importImages(source, 'first');
    const first = importId();
    store.getState().importImages(source, 'second');
    slice.onImportMessage({ type: 'import_done', importId: first, summary: summary('first', ['a', 'b']) });
    expect(store.getState().customImages).toBeNull();
    expect(store.getState().imageImport).toMatchObject({ what: 'second' });
  });

  it('sets Classes to the classes found while the task is the user’s images, and gives it back after', () => {
    const { store, slice, source, importId } = setup();
    store.getState().setField('task', 'custom');
    expect(store.getState().config.numClasses).toBe(10);
    store.getState().importImages(source, 'pets');
    slice.onImportMessage({ type: 'import_done', importId: importId(), summary: summary('pets', ['cat', 'dog', 'fox']) });
    expect(store.getState().config.numClasses).toBe(3);
    store.getState().setField('task', 'shift');
    expect(store.getState().config.numClasses).toBe(10);
    store.getState().setField('task', 'custom');
    expect(store.getState().config.numClasses).toBe(3);
    // A configuration that changes task and Classes at once (a link, a preset) keeps its Classes.
    store.setState((state) => ({ config: { ...state.config, task: 'shift', numClasses: 100 } }));
    expect(store.getState().config.numClasses).toBe(100);
  });
});
