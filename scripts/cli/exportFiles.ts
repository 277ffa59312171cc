// `cli finetune --export DIR`: the files the page's Download group offers, written to a folder.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exportProblems } from '../../src/lab/exports';
import { EXPORT_KINDS, type ExportKind } from '../../src/lab/ids';
import { buildRunExport, type FinishedRun } from '../../src/lab/run/exports';

export interface WrittenExports {
  written: string[];
  /** What this configuration cannot export, with why. */
  unavailable: { kind: ExportKind; reason: string }[];
}

export async function writeRunExports(dir: string, run: FinishedRun): Promise<WrittenExports> {
  await mkdir(dir, { recursive: true });
  const problems = exportProblems(run.config);
  const result: WrittenExports = { written: [], unavailable: [] };
  for (const kind of EXPORT_KINDS) {
    const problem = problems[kind];
    if (problem) {
      result.unavailable.push({ kind, reason: problem });
      continue;
    }
    const file = await buildRunExport(run, kind);
    const path = join(dir, file.name);
    await writeFile(path, file.bytes);
    result.written.push(path);
  }
  return result;
}
