// Where a hub file lives: its identity, its URL under a hub (or a mirror in the hub's layout) and
// its cache key. Pure and dependency-free, so the configuration schema can validate the hub URL
// without importing the download machinery (hubFiles.ts).

export interface HubFile {
  repoType: 'model' | 'dataset';
  /** "owner/name", e.g. "timm/resnet18.tv_in1k". */
  repo: string;
  /** A branch, tag or commit ("main", "refs/convert/parquet", a 40-hex sha). */
  revision: string;
  /** The file's path in the repository, e.g. "model.safetensors". */
  path: string;
}

export const DEFAULT_HUB_URL = 'https://huggingface.co';

/** Why `text` cannot be a hub URL, or null: an absolute http(s) URL without query, fragment or credentials. */
export function hubUrlProblem(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `Enter a URL such as ${DEFAULT_HUB_URL}.`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'Must be an http:// or https:// URL.';
  if (url.search || url.hash || text.includes('?') || text.includes('#')) return 'Without ?query or #fragment: files are fetched under it.';
  if (url.username || url.password) return 'Without a user name or password.';
  return null;
}

const encodePath = (path: string) => path.split('/').map(encodeURIComponent).join('/');

/** The file's download URL under `hubUrl`, as the hub lays them out (the revision is one path
 * segment: "refs/convert/parquet" becomes "refs%2Fconvert%2Fparquet", as huggingface_hub quotes it). */
export function hubFileUrl(hubUrl: string, file: HubFile): string {
  const base = hubUrl.replace(/\/+$/, '');
  const kind = file.repoType === 'dataset' ? '/datasets' : '';
  return `${base}${kind}/${encodePath(file.repo)}/resolve/${encodeURIComponent(file.revision)}/${encodePath(file.path)}`;
}

/** The cache key of a hub file: repository, revision and path (the sha256 is kept with the entry). */
export const hubCacheKey = (file: HubFile) => `hub/${file.repoType}/${file.repo}@${file.revision}/${file.path}`;
export const HUB_CACHE_KEY_PREFIX = 'hub/';
