// Fixed colours, the same in every chart and figure (the page's, the study's SVGs): a group or phase never changes colour between views.
// Tableau-10 hues, distinguishable with the common colour-vision deficiencies and on a projector.
import type { FlopPhase, MemoryGroup, MethodId } from '../core/ids';

export const MEMORY_GROUP_COLORS: Readonly<Record<MemoryGroup, string>> = {
  param: '#4c78a8',
  grad: '#f58518',
  act: '#54a24b',
  opt: '#b279a2',
  temp: '#9d755d',
};

export const FLOP_PHASE_COLORS: Readonly<Record<FlopPhase, string>> = {
  forward: '#4c78a8',
  backward_input: '#f58518',
  backward_weight: '#e45756',
  optimizer: '#72b7b2',
  projection: '#b279a2',
};

/** Lines drawn over the bars: the device budget and the sum of per-group maxima. */
export const BUDGET_COLOR = '#d62728';
export const SUM_OF_MAXIMA_COLOR = '#1d2330';

/** One hue per method in the comparison of finished runs. */
export const METHOD_COLORS: Readonly<Record<MethodId, string>> = {
  fft: '#1d2330',
  bn_head: '#9d755d',
  lora: '#4c78a8',
  dora: '#b279a2',
  galore: '#e45756',
};
