// The lab view's charts, in one chunk: the lab's controls draw without waiting for it (LabView.tsx
// loads it lazily). None of it imports the charting library: what the first screen draws (the
// memory bars, the live curves) is the lab's own SVG and canvas; the recharts plots further down
// load when they scroll near (DeferredPlot.tsx).
export { ChartsArea } from './ChartsArea';
export { ModelComparison } from './ModelComparison';
export { RankSweep } from './RankSweep';
export { RunComparison } from './RunComparison';
export { TrainingCurves } from './TrainingCurves';
export { LinkResults } from '../components/LinkResults';
