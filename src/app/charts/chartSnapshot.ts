import { useDeferredValue } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useLabStore } from '../store';

/** What every chart draws from: the profiles and the choices that select what to show of them. */
export function useChartSnapshot() {
  const snapshot = useLabStore(
    useShallow((s) => ({
      profiles: s.profiles,
      method: s.validConfig.method,
      // The model the profiles are of (the configured one may be a step ahead of them).
      model: s.profiles?.request.model.model ?? s.validConfig.model,
      memoryView: s.memoryView,
      flopConvention: s.flopConvention,
      budgetMiB: s.deviceBudgetMiB,
    })),
  );
  // Charts render at low priority: the controls stay responsive while they catch up.
  return useDeferredValue(snapshot);
}

export type ChartSnapshot = ReturnType<typeof useChartSnapshot>;
