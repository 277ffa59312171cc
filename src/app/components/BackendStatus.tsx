import { fallbackConsequence } from '../../core/backendInfo';
import { useLabStore } from '../store';

/** The backend line (what the training worker runs on) and, on a fallback, a banner saying what is lost. */
export function BackendStatus() {
  const backend = useLabStore((s) => s.backend);
  const error = useLabStore((s) => s.backendError);
  if (error) {
    return <div role="alert" className="banner banner-error">Training backend failed: {error}</div>;
  }
  if (!backend) {
    return <p className="backend-line" aria-live="polite">Starting the training backend…</p>;
  }
  const adapter = backend.adapter;
  const adapterText = adapter
    ? [adapter.vendor, adapter.architecture, adapter.device || adapter.description].filter(Boolean).join(' · ') || 'unnamed adapter'
    : 'no WebGPU adapter';
  const consequence = fallbackConsequence(backend.backend);
  return (
    <>
      <p className="backend-line">
        Backend: <strong data-testid="backend-name">{backend.backend}</strong>
        <span className="muted"> — adapter: <span data-testid="adapter-info">{adapterText}</span></span>
      </p>
      {consequence && (
        <div role="alert" className="banner banner-warning">
          <strong>WebGPU is not available here.</strong> {consequence}{' '}
          {backend.skipped.length > 0 && <span className="muted">({backend.skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')})</span>}
        </div>
      )}
    </>
  );
}
