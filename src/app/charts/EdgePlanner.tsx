import { useEffect } from 'react';
import { methodShortName } from '../../lab/names';
import { isTransformer } from '../../lab/config';
import { EDGE_DEVICES, MAX_PLANNED_BATCH } from '../../lab/planner';
import { formatBytes, MIB } from '../format';
import { useLabStore } from '../store';
import { ChartCard } from './ChartCard';

const CUSTOM = 'custom';

/** What fits my device: a device preset (its memory, source and the reserve the lab assumes) or a
 * budget of one's own, and for each method the largest batch whose simultaneous peak fits it —
 * the planner (src/lab/planner.ts) run in the profile worker on this configuration. The memory
 * chart draws the same budget as a line. */
export function EdgePlanner() {
  const deviceId = useLabStore((s) => s.deviceId);
  const budgetMiB = useLabStore((s) => s.deviceBudgetMiB);
  const chooseDevice = useLabStore((s) => s.chooseDevice);
  const fit = useLabStore((s) => s.fitPlan);
  const fitError = useLabStore((s) => s.fitError);
  const config = useLabStore((s) => s.validConfig);
  const requestFit = useLabStore((s) => s.requestFit);
  useEffect(() => {
    if (budgetMiB !== null) requestFit(config, budgetMiB);
  }, [requestFit, config, budgetMiB]);
  const device = EDGE_DEVICES.find((d) => d.id === deviceId);
  // Only the answer for what is on screen now (a stale one would show another configuration's batches).
  const plan = fit && budgetMiB !== null && fit.key === JSON.stringify([config, Math.floor(budgetMiB * MIB)]) ? fit.plan : null;
  return (
    <ChartCard
      title="What fits my device"
      explanation={
        <>
          For each method, the largest batch (up to {MAX_PLANNED_BATCH}) whose simultaneous peak of one training step fits the budget, from the analytic profiler (lab engine) at this
          configuration: {config.model}, width {config.width}{isTransformer(config) ? `, depth ${config.depth}` : ''}, {config.resolution}×{config.resolution}.
        </>
      }
      controls={
        <label className="budget-input">
          Device
          <select value={deviceId ?? (budgetMiB !== null ? CUSTOM : '')} onChange={(event) => chooseDevice(event.target.value === '' || event.target.value === CUSTOM ? null : event.target.value)}>
            <option value="">Choose a device…</option>
            {EDGE_DEVICES.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name}
              </option>
            ))}
            {deviceId === null && budgetMiB !== null && <option value={CUSTOM}>Your budget ({budgetMiB} MiB)</option>}
          </select>
        </label>
      }
    >
      {device && (
        <p className="device-source" data-testid="device-source">
          {formatBytes(device.totalBytes)} ({device.source}); budget {formatBytes(device.budgetBytes)}: {device.reserveNote}.
        </p>
      )}
      {budgetMiB === null && <p className="muted">Choose a device, or type a budget above the memory chart.</p>}
      {fitError && (
        <p role="alert" className="field-error">
          {fitError}
        </p>
      )}
      {budgetMiB !== null && !plan && !fitError && <p className="muted">Computing…</p>}
      {plan && (
        <>
          <table className="readout" aria-label="Largest batch that fits">
            <thead>
              <tr>
                <th scope="col">Method</th>
                <th scope="col">Largest batch</th>
                <th scope="col">Peak at that batch</th>
                <th scope="col">Peak at batch 1</th>
              </tr>
            </thead>
            <tbody>
              {plan.methods.map((m) => (
                <tr key={m.method} className={m.method === config.method ? 'current' : undefined}>
                  <th scope="row">{methodShortName(m.method, config.model)}</th>
                  <td data-testid={`fit-batch-${m.method}`}>{m.unavailable ? 'cannot run' : m.largestBatch === null ? 'none fits' : m.largestBatch}</td>
                  <td>{m.peakAtLargest === null ? '—' : formatBytes(m.peakAtLargest)}</td>
                  <td>{m.unavailable ? m.unavailable : formatBytes(m.peakAtBatch1)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {plan.shrink.length > 0 && (
            <div data-testid="fit-shrink">
              <p>
                Not even batch 1 of {methodShortName(config.method, config.model)} fits {formatBytes(plan.budgetBytes)}. What would shrink its smallest peak:
              </p>
              <ul>
                {plan.shrink.map((s) => (
                  <li key={s.change}>
                    {s.change}: batch 1 needs {formatBytes(s.peakAtBatch1)}
                    {s.fits ? ' — fits' : ''}
                  </li>
                ))}
              </ul>
            </div>
          )}
        </>
      )}
    </ChartCard>
  );
}
