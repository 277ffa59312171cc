// The lab view's charts, in one chunk with the charting library: the lab's controls draw without
// waiting for it (LabView.tsx loads this lazily).
export { ChartsArea } from './ChartsArea';
export { ModelComparison } from './ModelComparison';
export { RankSweep } from './RankSweep';
export { RunComparison } from './RunComparison';
export { TrainingCurves } from './TrainingCurves';
export { LinkResults } from '../components/LinkResults';
