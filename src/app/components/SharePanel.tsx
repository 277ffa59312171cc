import { useState } from 'react';
import { copyText } from '../clipboard';
import { CONFIG_FIELDS, fieldLabel, type ConfigField } from '../../lab/config';
import { useLabStore } from '../store';
import { currentPermalink } from '../usePermalinkSync';

type CopyState = 'idle' | 'copied' | 'failed';

/** Copy the permalink in one click; choose the controls a teaching link hides. */
export function SharePanel() {
  const [copyState, setCopyState] = useState<CopyState>('idle');
  const hidden = useLabStore((s) => s.hiddenFields);
  const setHiddenFields = useLabStore((s) => s.setHiddenFields);

  const copy = async () => setCopyState((await copyText(currentPermalink())) ? 'copied' : 'failed');
  const toggleHidden = (field: ConfigField, hide: boolean) =>
    setHiddenFields(hide ? CONFIG_FIELDS.filter((f) => f === field || hidden.includes(f)) : hidden.filter((f) => f !== field));

  return (
    <section className="share-panel" aria-label="Share">
      <div className="share-row">
        <button type="button" onClick={copy}>
          Copy link
        </button>
        <span role="status" className="muted">
          {copyState === 'copied' && 'Link copied: it holds this configuration (and saved results).'}
          {copyState === 'failed' && 'Copying was not allowed here: select the link below and copy it.'}
        </span>
      </div>
      {copyState === 'failed' && <input className="link-text" readOnly value={currentPermalink()} aria-label="Permalink" onFocus={(event) => event.target.select()} />}
      <details>
        <summary>Teaching link: hide controls ({hidden.length} hidden)</summary>
        <p className="field-hint">Hidden controls keep their values; students see only what you leave visible.</p>
        <div className="hide-grid">
          {CONFIG_FIELDS.map((field) => (
            <label key={field}>
              <input type="checkbox" checked={hidden.includes(field)} onChange={(event) => toggleHidden(field, event.target.checked)} /> {fieldLabel(field)}
            </label>
          ))}
        </div>
      </details>
    </section>
  );
}
