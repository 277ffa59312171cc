// The files of a finished run (src/lab/exports.ts says which, and why not): built from the run's
// fine-tuned model, its configuration and its record, by the training worker on request and by
// `cli finetune --export DIR`. Values are read once with `await data()`; no tensor is created.
import { writeZip } from '../../core/data/zipWrite';
import { readParams, type Model } from '../../core/nn/model';
import { exportMergedSafetensors } from '../../core/weights/merged';
import { exportPeftAdapter } from '../../core/weights/peft';
import { modelOptionsOf, type LabConfig } from '../config';
import { EXPORT_MIME, exportFileName, exportProblems, runRecordCsv, runRecordJson } from '../exports';
import type { ExportKind } from '../ids';
import type { RunRecord } from './record';

/** A finished run, as far as its exports need it. */
export interface FinishedRun {
  model: Model;
  config: LabConfig;
  record: RunRecord;
  labVersion: string;
}

export interface ExportFile {
  kind: ExportKind;
  name: string;
  mime: string;
  bytes: Uint8Array;
}

/** Thrown for an export the configuration cannot have (the reason of exportProblems). */
export class ExportUnavailableError extends Error {}

/** What goes with a PEFT adapter's files: how to load them. */
function adapterReadme(config: LabConfig): string {
  const width = config.width === 1 || config.model === 'resnet18' ? '' : `width_mult=${config.width}, `;
  const stem =
    config.stem === 'cifar'
      ? '\nThe lab\'s CIFAR stem: set `model.features[0][0].stride = (1, 1)` (and for MobileNetV2 `features[2]` at stride 1 with its residual, see scripts/fixtures/make_torch_fixtures.py `build`) before loading.\n'
      : '';
  return `# PEFT adapter from PEFT Edge Lab

${config.method === 'dora' ? 'DoRA' : 'LoRA'} r = ${config.rank}, alpha = ${config.alpha} on torchvision's \`${config.model}\` (${width}${modelOptionsOf(config).numClasses} classes).
${stem}
\`\`\`python
import torchvision
from peft import PeftModel
from safetensors.torch import load_file

model = torchvision.models.${config.model}(${width}num_classes=${modelOptionsOf(config).numClasses})
model.load_state_dict(load_file("base_model.safetensors"))  # the base the adapter applies to
model = PeftModel.from_pretrained(model, ".")               # this folder
model.eval()
\`\`\`

modules_to_save holds every BatchNorm (its running statistics follow the fine-tuning batches) and a
fully trained classifier; base_model.safetensors holds their fine-tuned values too, which PEFT's
copies replace anyway.
`;
}

/** One export of a finished run; ExportUnavailableError when its configuration has none. */
export async function buildRunExport(run: FinishedRun, kind: ExportKind): Promise<ExportFile> {
  const problem = exportProblems(run.config)[kind];
  if (problem) throw new ExportUnavailableError(problem);
  const file = (bytes: Uint8Array): ExportFile => ({ kind, name: exportFileName(run.config, kind), mime: EXPORT_MIME[kind], bytes });
  const text = (value: string) => new TextEncoder().encode(value);
  if (kind === 'results_json') return file(text(runRecordJson(run.record)));
  if (kind === 'results_csv') return file(text(runRecordCsv(run.record)));
  const values = await readParams(run.model);
  const metadata = { lab_version: run.labVersion, lab_config: JSON.stringify(run.config) };
  if (kind === 'weights') return file(exportMergedSafetensors(run.model.spec, values, metadata));
  const adapter = exportPeftAdapter(run.model.spec, values, { alpha: run.config.alpha, metadata });
  return file(
    writeZip([
      { path: 'adapter_model.safetensors', bytes: adapter.adapterModel },
      { path: 'adapter_config.json', bytes: text(adapter.adapterConfig) },
      { path: 'base_model.safetensors', bytes: adapter.baseModel },
      { path: 'README.md', bytes: text(adapterReadme(run.config)) },
    ]),
  );
}
