import { useEffect } from 'react';
import { BackendStatus } from './components/BackendStatus';
import { useLabStore } from './store';

export function App() {
  const connect = useLabStore((s) => s.connect);
  useEffect(() => connect(), [connect]);
  return (
    <div className="app">
      <header className="app-header">
        <h1>PEFT Edge Lab</h1>
        <p className="tagline">Fine-tune a CNN in your browser and see what each parameter-efficient method costs in memory and FLOPs.</p>
        <BackendStatus />
      </header>
      <main />
    </div>
  );
}
