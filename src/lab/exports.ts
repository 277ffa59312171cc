// What a finished run can download, said without tfjs (the page shows it beside its buttons; the
// worker and the CLI build the files with run/exports.ts): the fine-tuned weights as torchvision
// safetensors, LoRA/DoRA's PEFT adapter, and the run's record as JSON and CSV.
import { applyMethod } from '../core/adapters/definitions';
import { buildModelSpec } from '../core/models/registry';
import { mergeProblem, peftProblem } from '../core/weights/exportable';
import { methodOptionsOf, modelOptionsOf, type LabConfig } from './config';
import type { ExportKind } from './ids';
import type { RunRecord } from './run/record';


export const EXPORT_LABELS: Record<ExportKind, string> = {
  weights: 'Fine-tuned weights (.safetensors)',
  adapter: 'PEFT adapter (.zip)',
  results_json: 'Results (JSON)',
  results_csv: 'Results (CSV)',
};

const EXTENSIONS: Record<ExportKind, string> = {
  weights: '_finetuned.safetensors',
  adapter: '_peft_adapter.zip',
  results_json: '_results.json',
  results_csv: '_results.csv',
};

export const EXPORT_MIME: Record<ExportKind, string> = {
  weights: 'application/octet-stream',
  adapter: 'application/zip',
  results_json: 'application/json',
  results_csv: 'text/csv',
};

/** e.g. `mobilenet_v2_w0.35_lora_seed0_finetuned.safetensors`. */
export function exportFileName(config: LabConfig, kind: ExportKind): string {
  return `${config.model}_w${config.width}_${config.method}_seed${config.seed}${EXTENSIONS[kind]}`;
}

/** Per kind, why this configuration cannot export it, or null. */
export function exportProblems(config: LabConfig): Record<ExportKind, string | null> {
  const spec = applyMethod(buildModelSpec(modelOptionsOf(config)), config.method, methodOptionsOf(config));
  return { weights: mergeProblem(spec), adapter: peftProblem(spec), results_json: null, results_csv: null };
}

/** The record as the CLI's `--json` prints it, indented. */
export function runRecordJson(record: RunRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}

export const CSV_COLUMNS = ['step', 'epoch', 'train_loss', 'eval_accuracy', 'eval_loss'] as const;

/**
 * One row per training step (its loss) and per evaluation (step 0: before fine-tuning), an
 * evaluation on the row of the step it followed: curves for a spreadsheet. Empty cells where a row
 * has no such value.
 */
export function runRecordCsv(record: RunRecord): string {
  type Row = Partial<Record<(typeof CSV_COLUMNS)[number], number>>;
  const rows = new Map<number, Row>();
  const row = (step: number): Row => {
    let found = rows.get(step);
    if (!found) rows.set(step, (found = { step }));
    return found;
  };
  if (record.baseline) Object.assign(row(0), { epoch: 0, eval_accuracy: record.baseline.accuracy, eval_loss: record.baseline.loss });
  record.lossCurve.forEach((loss, i) => {
    const step = i + 1;
    Object.assign(row(step), { epoch: record.stepsPerEpoch > 0 ? Math.ceil(step / record.stepsPerEpoch) : undefined, train_loss: loss });
  });
  for (const point of record.evalCurve) Object.assign(row(point.step), { epoch: point.epoch, eval_accuracy: point.accuracy, eval_loss: point.loss });
  const lines = [CSV_COLUMNS.join(',')];
  for (const step of [...rows.keys()].sort((a, b) => a - b)) {
    const values = rows.get(step) as Row;
    lines.push(CSV_COLUMNS.map((column) => (values[column] === undefined ? '' : String(values[column]))).join(','));
  }
  return `${lines.join('\n')}\n`;
}
