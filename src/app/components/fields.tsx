// One labelled control per configuration field: native elements, the label from FIELD_LABELS,
// and the field's problem explained inline (aria-invalid + aria-describedby).
import { useState, type ReactNode } from 'react';
import {
  CHOICE_FIELDS,
  FIELD_LABELS,
  isFieldRelevant,
  NUMBER_LIMITS,
  type BooleanField,
  type ChoiceField,
  type ConfigField,
  type LabConfig,
  type NumberField as NumberFieldName,
} from '../config';
import { FIELD_HINTS } from '../labels';
import { useLabStore } from '../store';

const controlId = (field: ConfigField) => `field-${field}`;
const issueId = (field: ConfigField) => `field-${field}-issue`;
const hintId = (field: ConfigField) => `field-${field}-hint`;

/** Whether a field's control is on screen: relevant to the configuration and not hidden by a teaching link. */
function useFieldShown(field: ConfigField): boolean {
  const relevant = useLabStore((s) => isFieldRelevant(field, s.config));
  const hidden = useLabStore((s) => s.hiddenFields.includes(field));
  return relevant && !hidden;
}

function useFieldIssue(field: ConfigField) {
  return useLabStore((s) => s.issues.find((issue) => issue.field === field && issue.severity === 'error') ?? s.issues.find((issue) => issue.field === field));
}

/** The label, the control, its hint and its problem; wires the ARIA attributes the control needs. */
function FieldFrame({ field, children, inline = false }: { field: ConfigField; children: (aria: AriaProps) => ReactNode; inline?: boolean }) {
  const issue = useFieldIssue(field);
  const hint = FIELD_HINTS[field];
  const describedBy = [issue ? issueId(field) : null, hint ? hintId(field) : null].filter(Boolean).join(' ') || undefined;
  const aria: AriaProps = { id: controlId(field), 'aria-invalid': issue?.severity === 'error' ? true : undefined, 'aria-describedby': describedBy };
  return (
    <div className={`field${inline ? ' field-inline' : ''}`}>
      {inline ? (
        <label htmlFor={controlId(field)}>
          {children(aria)} {FIELD_LABELS[field]}
        </label>
      ) : (
        <>
          <label htmlFor={controlId(field)}>{FIELD_LABELS[field]}</label>
          {children(aria)}
        </>
      )}
      {issue && (
        <p id={issueId(field)} className={issue.severity === 'error' ? 'field-error' : 'field-warning'}>
          {issue.message}
        </p>
      )}
      {hint && (
        <p id={hintId(field)} className="field-hint">
          {hint}
        </p>
      )}
    </div>
  );
}

interface AriaProps {
  id: string;
  'aria-invalid': true | undefined;
  'aria-describedby': string | undefined;
}

export function SelectField<F extends ChoiceField>({
  field,
  optionLabel,
  optionDisabled,
}: {
  field: F;
  optionLabel: (id: LabConfig[F]) => string;
  /** Choices offered but not available now (still shown, with why in their label). */
  optionDisabled?: (id: LabConfig[F]) => boolean;
}) {
  const value = useLabStore((s) => s.config[field]);
  const setField = useLabStore((s) => s.setField);
  if (!useFieldShown(field)) return null;
  const choices = CHOICE_FIELDS[field] as readonly string[] as readonly LabConfig[F][];
  return (
    <FieldFrame field={field}>
      {(aria) => (
        <select {...aria} value={String(value)} onChange={(event) => setField(field, event.target.value as LabConfig[F])}>
          {choices.map((choice) => (
            <option key={String(choice)} value={String(choice)} disabled={optionDisabled?.(choice) && choice !== value}>
              {optionLabel(choice)}
            </option>
          ))}
        </select>
      )}
    </FieldFrame>
  );
}

export function CheckboxField({ field }: { field: BooleanField }) {
  const checked = useLabStore((s) => s.config[field]);
  const setField = useLabStore((s) => s.setField);
  if (!useFieldShown(field)) return null;
  return (
    <FieldFrame field={field} inline>
      {(aria) => <input {...aria} type="checkbox" checked={checked} onChange={(event) => setField(field, event.target.checked)} />}
    </FieldFrame>
  );
}

/** '' and partial input become NaN, which the validator explains ("Enter a number."). */
const parseNumberText = (text: string) => (text.trim() === '' ? Number.NaN : Number(text));
const formatNumber = (value: number) => (Number.isNaN(value) ? '' : String(value));

export function NumberField({ field }: { field: NumberFieldName }) {
  const value = useLabStore((s) => s.config[field]);
  const setField = useLabStore((s) => s.setField);
  // The text as typed ("1e-", "0.") may not be a number yet; the store holds the parsed value.
  const [text, setText] = useState(() => formatNumber(value));
  const [valueOfText, setValueOfText] = useState(value);
  if (!Object.is(value, valueOfText)) {
    // Changed from outside (a link, a reset): show the new value.
    setValueOfText(value);
    setText(formatNumber(value));
  }
  const shown = useFieldShown(field);
  if (!shown) return null;
  const { min, max, integer } = NUMBER_LIMITS[field];
  return (
    <FieldFrame field={field}>
      {(aria) => (
        <input
          {...aria}
          type="number"
          inputMode={integer ? 'numeric' : 'decimal'}
          min={min}
          max={max}
          step={integer ? 1 : 'any'}
          value={text}
          onChange={(event) => {
            const parsed = parseNumberText(event.target.value);
            setText(event.target.value);
            setValueOfText(parsed);
            setField(field, parsed);
          }}
        />
      )}
    </FieldFrame>
  );
}
