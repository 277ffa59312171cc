// The lab's version, as package.json says: recorded in every run summary a permalink carries.
// A named import, so the bundle keeps only this one field of package.json.
import { version } from '../../package.json';

export const LAB_VERSION: string = version;
