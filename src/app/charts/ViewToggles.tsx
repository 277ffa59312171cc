import { useId } from 'react';
import { useLabStore, type FlopConventionChoice, type MemoryViewChoice } from '../store';

function RadioGroup<T extends string>({ legend, value, options, onChange }: { legend: string; value: T; options: readonly { value: T; label: string }[]; onChange: (value: T) => void }) {
  // Each toggle is its own radio group, even when two charts show the same one.
  const name = useId();
  return (
    <fieldset className="toggle">
      <legend>{legend}</legend>
      {options.map((option) => (
        <label key={option.value} className={option.value === value ? 'toggle-on' : undefined}>
          <input type="radio" name={name} value={option.value} checked={option.value === value} onChange={() => onChange(option.value)} />
          {option.label}
        </label>
      ))}
    </fieldset>
  );
}

const MEMORY_VIEWS: readonly { value: MemoryViewChoice; label: string }[] = [
  { value: 'analytic', label: 'Lab engine' },
  { value: 'pytorch', label: 'PyTorch autograd' },
];

/** Whose activation bookkeeping the memory charts show. */
export function MemoryViewToggle() {
  const view = useLabStore((s) => s.memoryView);
  const setView = useLabStore((s) => s.setMemoryView);
  return <RadioGroup legend="Activations kept by" value={view} options={MEMORY_VIEWS} onChange={setView} />;
}

const FLOP_CONVENTIONS: readonly { value: FlopConventionChoice; label: string }[] = [
  { value: 'correct', label: 'Correct count' },
  { value: 'torch', label: 'PyTorch counter convention' },
];

export function FlopConventionToggle() {
  const convention = useLabStore((s) => s.flopConvention);
  const setConvention = useLabStore((s) => s.setFlopConvention);
  return <RadioGroup legend="FLOPs counted by" value={convention} options={FLOP_CONVENTIONS} onChange={setConvention} />;
}
