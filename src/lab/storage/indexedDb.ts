// The lab's cache of downloaded data in IndexedDB (the CIFAR-10 archive, ~160 MB), so that a reload
// does not download it again, and of base models pretrained in the browser (pretrainedStore.ts).
// The one module that touches IndexedDB: the training worker reads and fills it (through
// browserEnvironment.ts), the page lists and clears it. Where IndexedDB is missing or refuses (some private
// modes, a full disk) every call degrades to "nothing cached": reads give null, writes false.

const DB_NAME = 'peft-edge-lab';
const DB_VERSION = 1;
const STORE = 'data';
/** Some private modes leave open() pending forever: give up after this long. */
const OPEN_TIMEOUT_MS = 3000;

export interface CachedDataInfo {
  key: string;
  /** Where it came from: a URL or a file name. */
  source: string;
  bytes: number;
  /** Milliseconds since the epoch. */
  storedAt: number;
  /** What the entry is, for entries that say more than their bytes (a pretrained model's accuracy and settings). */
  meta?: unknown;
}

interface CachedRecord extends CachedDataInfo {
  blob: Blob;
}

let opening: Promise<IDBDatabase | null> | null = null;

function requestResult<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB request failed'));
  });
}

function transactionDone(transaction: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error ?? new Error('IndexedDB transaction failed'));
    transaction.onabort = () => reject(transaction.error ?? new Error('IndexedDB transaction aborted'));
  });
}

/** The database, or null where IndexedDB is unavailable. */
function openDatabase(): Promise<IDBDatabase | null> {
  opening ??= new Promise<IDBDatabase | null>((resolve) => {
    let settled = false;
    const settle = (db: IDBDatabase | null) => {
      if (settled) {
        db?.close();
        return;
      }
      settled = true;
      clearTimeout(timer);
      resolve(db);
    };
    const timer = setTimeout(() => settle(null), OPEN_TIMEOUT_MS);
    try {
      if (typeof indexedDB === 'undefined') return settle(null);
      const request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = () => {
        if (!request.result.objectStoreNames.contains(STORE)) request.result.createObjectStore(STORE, { keyPath: 'key' });
      };
      request.onsuccess = () => {
        const db = request.result;
        // Another tab upgrading or deleting the database: let it, and reopen next time.
        db.onversionchange = () => {
          db.close();
          opening = null;
        };
        settle(db);
      };
      request.onerror = () => settle(null);
      request.onblocked = () => settle(null);
    } catch {
      settle(null);
    }
  }).then((db) => {
    if (!db) opening = null; // Try again next time (it may have been a passing failure).
    return db;
  });
  return opening;
}

/** Whether this browser lets the lab cache data. */
export async function cacheAvailable(): Promise<boolean> {
  return (await openDatabase()) !== null;
}

/** The cached blob under `key` with what it is, or null (not cached, or no IndexedDB). */
export async function getCachedBlob(key: string): Promise<{ blob: Blob; info: CachedDataInfo } | null> {
  const db = await openDatabase();
  if (!db) return null;
  try {
    const record = (await requestResult(db.transaction(STORE, 'readonly').objectStore(STORE).get(key))) as CachedRecord | undefined;
    if (!record || !(record.blob instanceof Blob)) return null;
    const { blob, ...info } = record;
    return { blob, info };
  } catch {
    return null;
  }
}

/** Stores `blob` under `key` (with `meta`, structured-cloneable); false when it could not be (no IndexedDB, quota exceeded). */
export async function putCachedBlob(key: string, blob: Blob, source: string, meta?: unknown): Promise<boolean> {
  const db = await openDatabase();
  if (!db) return false;
  try {
    const transaction = db.transaction(STORE, 'readwrite');
    const record: CachedRecord = { key, source, bytes: blob.size, storedAt: Date.now(), blob, ...(meta === undefined ? {} : { meta }) };
    transaction.objectStore(STORE).put(record);
    await transactionDone(transaction);
    return true;
  } catch {
    return false;
  }
}

export async function deleteCachedBlob(key: string): Promise<void> {
  const db = await openDatabase();
  if (!db) return;
  try {
    const transaction = db.transaction(STORE, 'readwrite');
    transaction.objectStore(STORE).delete(key);
    await transactionDone(transaction);
  } catch {
    // Nothing to do: the entry stays, and is replaced when next stored.
  }
}

/** What is cached (without reading the blobs), or null where IndexedDB is unavailable. */
export async function listCachedData(): Promise<CachedDataInfo[] | null> {
  const db = await openDatabase();
  if (!db) return null;
  try {
    const records = (await requestResult(db.transaction(STORE, 'readonly').objectStore(STORE).getAll())) as CachedRecord[];
    return records.map(({ key, source, bytes, storedAt, meta }) => ({ key, source, bytes, storedAt, ...(meta === undefined ? {} : { meta }) }));
  } catch {
    return null;
  }
}

/** Removes everything the lab cached; false where IndexedDB is unavailable or refused. */
export async function clearCachedData(): Promise<boolean> {
  const db = await openDatabase();
  if (!db) return false;
  try {
    const transaction = db.transaction(STORE, 'readwrite');
    transaction.objectStore(STORE).clear();
    await transactionDone(transaction);
    return true;
  } catch {
    return false;
  }
}
