// `npm run study`: what each method buys. Fine-tunes a grid (models × methods × tasks × ranks ×
// seeds) with the lab's own run loop in Node, and writes study-results/<date>-<device>.json, .md
// and SVG figures: per cell the mean final accuracy over seeds with its 95% interval and
// steps-to-target, and the study's accuracy claims judged reproduced, contradicted or
// inconclusive. Exit codes: 0 done, 1 failure, 2 bad usage. See `npm run study -- --help`.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { STUDY_SCHEMA, summariseStudy, runKeyString, type StudyReport, type StudyRun } from '../src/lab/study/report';
import { useNodeBackend } from './cli/wasm';
import { formatDuration } from './bench/format';
import { HELP, parseStudyArgs, planRuns, shardRuns, UsageError, type StudyPlan } from './study/plan';
import { writeStudyFiles } from './study/output';
import { openStudyBrowser } from './study/browser';
import { readProgress, runPlanned, type Finetune } from './study/runner';

const log = (line: string) => process.stderr.write(`${line}\n`);
const pct = (value: number) => `${(100 * value).toFixed(1)}%`;
const today = () => new Date().toISOString().slice(0, 10);
const deviceOf = (backend: string) => `node-${backend}`;
const SHARD_FILE = /\.shard-(\d+)-of-(\d+)\.json$/;

function reportOf(runs: StudyRun[], plan: Pick<StudyPlan, 'settings'>, where: { backend: string; device: string }, command: string): StudyReport {
  return { schema: STUDY_SCHEMA, createdAt: new Date().toISOString(), backend: where.backend, device: where.device, command, settings: plan.settings, runs, ...summariseStudy(runs) };
}

/** Runs this process's part of the grid; writes the report (or a shard's) unless stopped early. */
async function runStudy(plan: StudyPlan, command: string): Promise<void> {
  const browser = plan.browser ? await openStudyBrowser(log) : null;
  try {
    if (!browser) await useNodeBackend(plan.backend);
    const where = browser ? { backend: browser.backend, device: browser.device } : { backend: plan.backend, device: deviceOf(plan.backend) };
    await runPart(plan, command, where, browser?.finetune);
  } finally {
    await browser?.close();
  }
}

async function runPart(plan: StudyPlan, command: string, where: { backend: string; device: string }, finetune: Finetune | undefined): Promise<void> {
  mkdirSync(plan.outDir, { recursive: true });
  const planned = shardRuns(planRuns(plan), plan.shard);
  const suffix = plan.shard ? `.shard-${plan.shard.index}-of-${plan.shard.count}` : '';
  const progressFile = join(plan.outDir, `progress${suffix}.jsonl`);
  const started = Date.now();
  const resumed = plan.resume ? readProgress(progressFile).runs.length : 0;
  log(`study${suffix}: ${planned.length} runs${resumed > 0 ? ` (${resumed} done before, resumed)` : ''}, ${plan.settings.trainImages} images × ${plan.settings.epochs} epochs each, ${where.backend} backend on ${where.device}`);
  let ranHere = 0;
  const runs = await runPlanned(planned, { ...plan, backend: where.backend as StudyPlan['backend'] }, progressFile, (run, done, total) => {
    ranHere++;
    const elapsed = Date.now() - started;
    const eta = formatDuration((elapsed / ranHere) * (total - done));
    const outcome = run.failure ? `failed: ${run.failure}` : `${pct(run.baselineAccuracy)} → ${pct(run.finalAccuracy)}`;
    log(`[${done}/${total}] ${runKeyString(run)}: ${outcome} (${run.timing.wallSeconds.toFixed(0)} s, ${run.timing.imagesPerSecond.toFixed(1)} img/s)  ETA ${eta}`);
  }, finetune);
  if (runs.length < planned.length) {
    log(`stopped after ${runs.length} of ${planned.length} runs: npm run study -- <same flags> --resume finishes it`);
    return;
  }
  const base = `${today()}-${where.device}`;
  const report = reportOf(runs, plan, where, command);
  if (plan.shard) {
    writeStudyJson(join(plan.outDir, `${base}${suffix}.json`), report);
  } else {
    for (const path of writeStudyFiles(report, plan.outDir, base)) log(`wrote ${path}`);
  }
  rmSync(progressFile);
  log(`done in ${formatDuration(Date.now() - started)}`);
}

function writeStudyJson(path: string, report: StudyReport): void {
  // Shards are merged whole, so a plain JSON write is enough.
  writeFileSync(path, `${JSON.stringify(report)}\n`);
  log(`wrote ${path}`);
}

/** Merges the shard reports in `outDir` (one grid, every shard present) into one report. */
function mergeShards(outDir: string, command: string): void {
  const files = existsSync(outDir) ? readdirSync(outDir).filter((name) => SHARD_FILE.test(name)).sort() : [];
  if (files.length === 0) throw new UsageError(`no shard reports (*.shard-i-of-n.json) in ${outDir}`);
  const reports = files.map((name) => JSON.parse(readFileSync(join(outDir, name), 'utf8')) as StudyReport);
  const counts = new Set(files.map((name) => (SHARD_FILE.exec(name) as RegExpExecArray)[2]));
  const indices = new Set(files.map((name) => (SHARD_FILE.exec(name) as RegExpExecArray)[1]));
  const count = Number([...counts][0]);
  if (counts.size !== 1 || indices.size !== count) throw new UsageError(`shards of ${[...counts].join(' and ')} parts, ${indices.size} present: every part of one split is needed`);
  const settings = JSON.stringify(reports[0].settings);
  if (reports.some((r) => r.schema !== STUDY_SCHEMA || JSON.stringify(r.settings) !== settings || r.backend !== reports[0].backend || r.device !== reports[0].device)) {
    throw new UsageError('the shard reports are of different studies (schema, settings or backend differ)');
  }
  const runs = reports.flatMap((r) => r.runs);
  const report = reportOf(runs, { settings: reports[0].settings }, { backend: reports[0].backend, device: reports[0].device }, command);
  const base = files[0].replace(SHARD_FILE, '');
  for (const path of writeStudyFiles(report, outDir, base)) log(`wrote ${path}`);
  for (const name of files) rmSync(join(outDir, name));
}

/** --parallel n: n processes, each a shard of the grid, then the merge. */
async function runParallel(plan: StudyPlan, argv: string[], command: string): Promise<void> {
  mkdirSync(plan.outDir, { recursive: true });
  const childArgs = argv.filter((arg, i) => !arg.startsWith('--parallel') && argv[i - 1] !== '--parallel');
  const children = Array.from({ length: plan.parallel }, (_, k) =>
    new Promise<number>((resolve) => {
      const child = spawn(process.execPath, [...process.execArgv, process.argv[1], ...childArgs, '--parallel', '1', '--shard', `${k + 1}/${plan.parallel}`], { stdio: ['ignore', 'inherit', 'inherit'] });
      child.on('exit', (code) => resolve(code ?? 1));
    }),
  );
  const codes = await Promise.all(children);
  if (codes.some((code) => code !== 0)) throw new Error(`a study process failed (exit codes ${codes.join(', ')}); finished runs are kept: rerun with --resume`);
  const stoppedEarly = readdirSync(plan.outDir).some((name) => name.startsWith('progress.shard-'));
  if (stoppedEarly) return;
  mergeShards(plan.outDir, command);
}

async function main(argv: string[]): Promise<number> {
  const command = `npm run study --${argv.length > 0 ? ` ${argv.join(' ')}` : ''}`;
  try {
    const parsed = parseStudyArgs(argv);
    if (parsed.mode === 'help') {
      console.log(HELP);
      return 0;
    }
    if (parsed.mode === 'merge') mergeShards(parsed.outDir, command);
    else if (parsed.parallel > 1 && !parsed.shard && !parsed.browser) await runParallel(parsed, argv, command);
    else await runStudy(parsed, command);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      log(`error: ${error.message}\n\n${HELP}`);
      return 2;
    }
    log(error instanceof Error ? (error.stack ?? error.message) : String(error));
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
