// One labelled control per configuration field, drawn from its schema (src/lab/config.ts: label,
// hint, limits, choices): native elements, and the field's problem explained inline
// (aria-invalid + aria-describedby).
import { useState, type ReactNode } from 'react';
import {
  choiceSchema,
  fieldLabel,
  fieldSchema,
  isFieldRelevant,
  numberSchema,
  type BooleanField,
  type ChoiceField,
  type ConfigField,
  type LabConfig,
  type NumberField as NumberFieldName,
  type TextField as TextFieldName,
  textSchema,
} from '../../lab/config';
import { useLabStore } from '../store';

const controlId = (field: ConfigField) => `field-${field}`;
const issueId = (field: ConfigField) => `field-${field}-issue`;
const hintId = (field: ConfigField) => `field-${field}-hint`;
const noteId = (field: ConfigField) => `field-${field}-note`;

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
function FieldFrame({ field, children, inline = false, note }: { field: ConfigField; children: (aria: AriaProps) => ReactNode; inline?: boolean; note?: string }) {
  const issue = useFieldIssue(field);
  const hint = fieldSchema(field).hint;
  const describedBy = [issue ? issueId(field) : null, note ? noteId(field) : null, hint ? hintId(field) : null].filter(Boolean).join(' ') || undefined;
  const aria: AriaProps = { id: controlId(field), 'aria-invalid': issue?.severity === 'error' ? true : undefined, 'aria-describedby': describedBy };
  return (
    <div className={`field${inline ? ' field-inline' : ''}`}>
      {inline ? (
        <label htmlFor={controlId(field)}>
          {children(aria)} {fieldLabel(field)}
        </label>
      ) : (
        <>
          <label htmlFor={controlId(field)}>{fieldLabel(field)}</label>
          {children(aria)}
        </>
      )}
      {issue && (
        <p id={issueId(field)} className={issue.severity === 'error' ? 'field-error' : 'field-warning'}>
          {issue.message}
        </p>
      )}
      {note && (
        <p id={noteId(field)} className="field-note">
          {note}
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
  disabledReason,
}: {
  field: F;
  /** The words of a choice; the schema's by default. */
  optionLabel?: (id: LabConfig[F]) => string;
  /** Choices offered but not available now (still shown, with why in their label). */
  optionDisabled?: (id: LabConfig[F]) => boolean;
  /** Why the whole control is unavailable now (shown under it), or null/absent when it is available. */
  disabledReason?: string | null;
}) {
  const value = useLabStore((s) => s.config[field]);
  const setField = useLabStore((s) => s.setField);
  if (!useFieldShown(field)) return null;
  const schema = choiceSchema(field);
  const choices = schema.choices as readonly LabConfig[F][];
  const labelOf = optionLabel ?? ((id: LabConfig[F]) => schema.choiceLabel(String(id)));
  return (
    <FieldFrame field={field} note={disabledReason ?? undefined}>
      {(aria) => (
        <select {...aria} disabled={Boolean(disabledReason)} value={String(value)} onChange={(event) => setField(field, event.target.value as LabConfig[F])}>
          {choices.map((choice) => (
            <option key={String(choice)} value={String(choice)} disabled={optionDisabled?.(choice) && choice !== value}>
              {labelOf(choice)}
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
  const { min, max, integer } = numberSchema(field);
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

export function TextField({ field }: { field: TextFieldName }) {
  const value = useLabStore((s) => s.config[field]);
  const setField = useLabStore((s) => s.setField);
  if (!useFieldShown(field)) return null;
  return (
    <FieldFrame field={field}>
      {(aria) => <input {...aria} type="url" spellCheck={false} autoComplete="off" maxLength={textSchema(field).maxLength} value={value} onChange={(event) => setField(field, event.target.value)} />}
    </FieldFrame>
  );
}
