// A study report as files: <base>.json (every run, cell and verdict), <base>.md (tables for
// reading) and <base>.<figure>.svg.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { claimById, claimText, STUDY_MODELS } from '../../src/lab/claims';
import { METHOD_SHORT_NAMES, methodShortName, MODEL_NAMES } from '../../src/lab/names';
import { studyFigures } from '../../src/lab/study/figures';
import type { StudyCell, StudyReport } from '../../src/lab/study/report';

const pct = (value: number) => (Number.isFinite(value) ? `${(100 * value).toFixed(1)}` : '—');
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)}`;

function cellRow(cell: StudyCell): string {
  const a = cell.finalAccuracy;
  const steps = cell.stepsToTarget;
  const reached = steps ? steps.perSeed.filter((s) => s !== null).length : 0;
  const stepsText = !steps ? '—' : steps.meanReached === null ? `not reached (target ${pct(steps.target)}%)` : `${steps.meanReached.toFixed(1)} (${reached}/${steps.perSeed.length} seeds; target ${pct(steps.target)}%)`;
  return `| ${MODEL_NAMES[cell.model]} | ${cell.task} | ${methodShortName(cell.method, cell.model)}${cell.rank === null ? '' : ` r=${cell.rank}`}${cell.frozenWeights ? `, ${cell.frozenWeights} base` : ''} | ${pct(cell.baselineAccuracy.mean)} | **${pct(a.mean)}** [${pct(a.low)}, ${pct(a.high)}] | ${pct(a.sd)} | ${stepsText} | ${mib(cell.peakBytes)} | ${(cell.flopsPerStep / 1e9).toFixed(2)} | ${cell.seeds.join(', ')}${cell.failures.length > 0 ? `; failed: ${cell.failures.map((f) => `seed ${f.seed} (${f.reason})`).join('; ')}` : ''} |`;
}

export function renderStudyMarkdown(report: StudyReport, baseName: string): string {
  const s = report.settings;
  const throughput = new Map<string, number[]>();
  for (const run of report.runs) if (!run.failure) throughput.set(run.cell.method, [...(throughput.get(run.cell.method) ?? []), run.timing.imagesPerSecond]);
  const lines = [
    `# Study ${report.createdAt.slice(0, 10)} (${report.device})`,
    '',
    `\`${report.command}\` — ${report.runs.length} runs on the tfjs ${report.backend} backend.`,
    '',
    `Setting: width ${s.width}, ${s.resolution}×${s.resolution}, ${s.stem} stem, base weights ${s.baseWeights} (${s.dataSource} data); ` +
      `${s.trainImages} training images, ${s.epochs} epochs, batch ${s.batchSize}, Adam lr ${s.learningRate}, α ${s.alpha}, patience ${s.patience}.` +
      (s.vit ? ` ViT-Tiny at its own size: width ${s.vit.width}, depth ${s.vit.depth} (${s.stem === 'cifar' ? '4×4' : '16×16'} patches).` : ''),
    '',
    '## Cells',
    '',
    'Final accuracy: mean over seeds with its 95% Student-t interval; SD across seeds. Steps to target: the first evaluation reaching 90% of full fine-tuning’s final accuracy (same task and seeds). Peak: the analytic simultaneous peak of one step. GFLOPs: one step, correct count.',
    '',
    '| model | task | method | before (%) | final (%) [95% CI] | SD | steps to target | peak MiB | GFLOPs/step | seeds |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...report.cells.map(cellRow),
    '',
    '## The study’s accuracy claims',
    '',
    ...(report.cells.some((c) => !STUDY_MODELS.includes(c.model) || c.frozenWeights)
      ? ['The study’s claims are about its own models on a float32 base: they are judged on those cells only. The cells of other models (ViT-Tiny) and of quantized bases stand in the table above, beside them, with no verdict of the study’s.', '']
      : []),
    '| claim | verdict | evidence |',
    '|---|---|---|',
    ...report.verdicts.map((v) => `| ${claimText(claimById(v.claimId))} | **${v.verdict}** | ${v.evidence.join('<br>')} |`),
    '',
    '## Throughput (training images per second, Node)',
    '',
    ...[...throughput.entries()].map(([method, values]) => `- ${METHOD_SHORT_NAMES[method as keyof typeof METHOD_SHORT_NAMES]}: ${(values.reduce((a, b) => a + b, 0) / values.length).toFixed(1)} (mean of ${values.length} runs)`),
    '',
    '## Figures',
    '',
    ...studyFigures(report).flatMap((figure) => [`### ${figure.title}`, '', figure.description, '', `![${figure.title}](${baseName}.${figure.id}.svg)`, '']),
  ];
  return lines.join('\n');
}

/** Writes the report's JSON, Markdown and figures; returns the paths. */
export function writeStudyFiles(report: StudyReport, outDir: string, baseName: string): string[] {
  const written: string[] = [];
  const write = (name: string, text: string) => {
    const path = join(outDir, name);
    writeFileSync(path, text);
    written.push(path);
  };
  write(`${baseName}.json`, `${JSON.stringify(report, null, 1)}\n`);
  write(`${baseName}.md`, renderStudyMarkdown(report, baseName));
  for (const figure of studyFigures(report)) write(`${baseName}.${figure.id}.svg`, figure.svg);
  return written;
}
