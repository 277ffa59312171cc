// "Download" after a finished run: the fine-tuned weights as torchvision safetensors, LoRA/DoRA's
// PEFT adapter, and the run's record as JSON and CSV. The worker builds each file from the run's
// model when asked (it keeps the model until the next run); what a configuration cannot export is
// said here, with why, instead of a file that would load wrongly.
import { EXPORT_LABELS } from '../../lab/exports';
import { EXPORT_KINDS, type ExportKind } from '../../lab/ids';
import type { CurrentRun } from '../runSlice';
import { useLabStore } from '../store';

const HINTS: Record<ExportKind, string> = {
  weights: 'adapters folded in; loads with load_state_dict(strict=True) into torchvision’s model, or back here as imported base weights',
  adapter: 'adapter_model.safetensors and adapter_config.json for PeftModel.from_pretrained, with the base they apply to',
  results_json: 'the run’s record: configuration, baseline, curves, memory, FLOPs',
  results_csv: 'one row per step and evaluation, for a spreadsheet',
};

export function ExportPanel({ run }: { run: CurrentRun }) {
  const problems = run.exportProblems;
  if ((run.status !== 'done' && run.status !== 'stopped') || !run.summary || !problems) return null;
  return <Downloads run={run} problems={problems} />;
}

/** Mounted once the run has ended, with what it cannot export as the worker said (working it out
 * builds the method's spec: no work for the page's task that shows the run's end). */
function Downloads({ run, problems }: { run: CurrentRun; problems: Record<ExportKind, string | null> }) {
  const exports = useLabStore((s) => (s.runExports?.runId === run.runId ? s.runExports : null));
  const requestExport = useLabStore((s) => s.requestExport);
  return (
    <section className="run-exports" aria-label="Download">
      <h3>Download</h3>
      <ul style={{ listStyle: 'none', paddingLeft: 0 }}>
        {EXPORT_KINDS.map((kind) => {
          const problem = problems[kind];
          const preparing = exports?.preparing.includes(kind) ?? false;
          const error = exports?.errors[kind];
          return (
            <li key={kind}>
              <button type="button" className="secondary" onClick={() => requestExport(kind)} disabled={problem !== null || preparing} title={problem ?? HINTS[kind]}>
                {preparing ? `${EXPORT_LABELS[kind]}: preparing…` : EXPORT_LABELS[kind]}
              </button>{' '}
              <span className="muted" data-testid={`export-note-${kind}`}>
                {problem ? `Not available: ${problem}.` : HINTS[kind]}
              </span>
              {error && (
                <span role="alert" className="banner banner-error">
                  {error}
                </span>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
