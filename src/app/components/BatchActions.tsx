// Batches of runs in one click: every method with the same seed and data, a rank sweep, and the
// study's experiments as presets.
import { useState } from 'react';
import { hasErrors } from '../../lab/config';
import { ClaimLines } from './ClaimLines';
import { compareAllPlan, DEFAULT_SWEEP_RANKS, parseRanks, PRESETS, presetConfig, presetPlan, rankSweepPlan, type PresetId } from '../runPlans';
import type { CurrentRun } from '../runSlice';
import { useLabStore } from '../store';

const busy = (run: CurrentRun | null) => run !== null && (run.status === 'starting' || run.status === 'running' || run.status === 'paused');

export function BatchActions() {
  const [ranksText, setRanksText] = useState(DEFAULT_SWEEP_RANKS.join(', '));
  const running = useLabStore((s) => busy(s.run));
  const invalid = useLabStore((s) => hasErrors(s.issues));
  const ranks = parseRanks(ranksText);
  const disabled = running || invalid;

  const { startPlan, applyConfig, compareModels } = useLabStore.getState();
  const compareAll = () => startPlan(compareAllPlan(useLabStore.getState().validConfig));
  const sweep = () => ranks && startPlan(rankSweepPlan(useLabStore.getState().validConfig, ranks));
  const preset = (id: PresetId) => {
    const config = useLabStore.getState().validConfig;
    if (id === 'baseline_profiling') {
      compareModels(['mobilenet_v2', 'resnet18']);
      return;
    }
    applyConfig(presetConfig(id, config));
    startPlan(presetPlan(id, config));
  };

  return (
    <section className="batch-actions" aria-label="Compare">
      <h2>Compare</h2>
      <button type="button" onClick={compareAll} disabled={disabled}>
        Compare all methods
      </button>
      <p className="field-hint">Runs FFT, BN+H, LoRA, DoRA and GaLore in turn with this seed and data.</p>
      <div className="field">
        <label htmlFor="sweep-ranks">Ranks to sweep</label>
        <input id="sweep-ranks" value={ranksText} onChange={(event) => setRanksText(event.target.value)} aria-invalid={ranks ? undefined : true} aria-describedby="sweep-ranks-issue" />
        {!ranks && (
          <p id="sweep-ranks-issue" className="field-error">
            Enter whole numbers from 1 to 512, separated by commas.
          </p>
        )}
      </div>
      <button type="button" onClick={sweep} disabled={disabled || !ranks}>
        Run rank sweep
      </button>
      <h3>The study’s experiments</h3>
      {PRESETS.map((p) => (
        <div key={p.id} className="preset">
          <button type="button" className="secondary" onClick={() => preset(p.id)} disabled={p.id === 'baseline_profiling' ? invalid : disabled}>
            {p.title}
          </button>
          <p className="field-hint">{p.description}</p>
          <ClaimLines claimIds={p.claims} />
        </div>
      ))}
    </section>
  );
}
