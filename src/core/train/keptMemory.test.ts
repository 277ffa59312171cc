// What a training step keeps for its backward pass, measured at the end of the forward pass inside
// computeGradients (when tfjs closes the gradient tape): the buffers the tape's saved tensors hold,
// parameters excepted (they are alive anyway), each buffer counted once. A frozen backbone must
// keep less than full fine-tuning (no conv keeps its input for a weight gradient, nothing below the
// gradient frontier is kept at all), and each must keep exactly what the lab's ACT view counts.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../rng';
import { buildModelSpec } from '../models/registry';
import type { ModelSpec } from '../models/spec';
import { planGradients } from '../nn/gradientPlan';
import { createModel, disposeModel, type Model } from '../nn/model';
import { computeGradients, type Batch } from './step';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

interface KeptBytes {
  /** Distinct non-parameter buffers held by the tape's saved tensors. */
  savedActivationBytes: number;
  /** tf.memory().numBytes at the end of the forward pass minus before the step (tfjs counts a
   * buffer once per tensor object: the tape's clones of saved parameters count again). */
  numBytesGrowth: number;
}

/** Runs computeGradients and measures what is kept when the forward pass ends. */
function measureKept(model: Model, batch: Batch, trainable: ReadonlySet<string>): KeptBytes {
  // tfjs-core internals (4.x): endTape closes the forward pass; state.activeTape lists what each
  // recorded op saved for its gradient.
  const engine = tf.engine() as unknown as {
    endTape(): void;
    state: { activeTape: { saved?: tf.Tensor[] }[] | null };
  };
  const parameterBuffers = new Set([...model.variables.values()].map((v) => v.dataId));
  const numBytesBefore = tf.memory().numBytes;
  let kept: KeptBytes | undefined;
  const endTape = engine.endTape;
  engine.endTape = function (this: typeof engine) {
    const buffers = new Map<object, number>();
    for (const node of this.state.activeTape ?? []) {
      for (const t of node.saved ?? []) if (!parameterBuffers.has(t.dataId)) buffers.set(t.dataId, t.size * 4);
    }
    kept = {
      savedActivationBytes: [...buffers.values()].reduce((a, b) => a + b, 0),
      numBytesGrowth: tf.memory().numBytes - numBytesBefore,
    };
    endTape.call(this);
  };
  try {
    const { loss, grads } = computeGradients(model, batch, trainable);
    tf.dispose([loss, ...grads.values()]);
  } finally {
    engine.endTape = endTape;
  }
  if (!kept) throw new Error('measureKept: the step closed no gradient tape');
  return kept;
}

function trainableSets(spec: ModelSpec): Record<'fft' | 'bn_head' | 'head', Set<string>> {
  const trainable = Object.values(spec.params).filter((p) => p.trainable);
  const isHead = (name: string) => name.startsWith('classifier');
  return {
    fft: new Set(trainable.map((p) => p.name)),
    bn_head: new Set(trainable.filter((p) => p.role === 'bn_gamma' || p.role === 'bn_beta' || isHead(p.name)).map((p) => p.name)),
    head: new Set(trainable.filter((p) => isHead(p.name)).map((p) => p.name)),
  };
}

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * The lab's ACT view for a relu6 network (MobileNetV2), in bytes: on the gradient path, batch norm
 * keeps its input and the batch mean and variance, relu6 its output, a conv or linear its input when
 * its weight trains; a buffer shared by two of them (a conv reading a relu6 output) counts once. A
 * relu6 that alone reads a batch norm (which then keeps its input) and is read only by convs or
 * linears is recomputed from what the batch norm keeps: neither it nor its readers keep it. The
 * loss's few values aside.
 */
function labActBytes(spec: ModelSpec, trainable: ReadonlySet<string>, batchSize: number): number {
  const plan = planGradients(spec, { params: trainable, input: false });
  const nodes = new Map(spec.nodes.map((node) => [node.id, node]));
  const readers = (id: string) => spec.nodes.filter((node) => node.inputs.includes(id));
  const recomputed = (id: string) => {
    const node = nodes.get(id);
    const batchNorm = node?.op === 'activation' ? nodes.get(node.inputs[0]) : undefined;
    return (
      batchNorm?.op === 'batchnorm' &&
      plan.needsGrad(batchNorm.id) &&
      readers(batchNorm.id).length === 1 &&
      readers(id).length > 0 &&
      readers(id).every((reader) => reader.op === 'conv2d' || reader.op === 'linear')
    );
  };
  const kept = new Map<string, number>();
  for (const node of spec.nodes) {
    if (!plan.needsGrad(node.id)) continue;
    const elements = batchSize * numel(node.outShape);
    if (node.op === 'batchnorm') {
      kept.set(node.inputs[0], elements);
      kept.set(`${node.id}/mean_and_variance`, 2 * node.channels);
    } else if (node.op === 'activation' && !recomputed(node.id)) {
      kept.set(node.id, elements);
    } else if ((node.op === 'conv2d' || node.op === 'linear') && trainable.has(node.weight) && !recomputed(node.inputs[0])) {
      const input = nodes.get(node.inputs[0]);
      if (input) kept.set(input.id, batchSize * numel(input.outShape));
    }
  }
  return 4 * [...kept.values()].reduce((a, b) => a + b, 0);
}

describe('what a step keeps for the backward pass', () => {
  it('MobileNetV2 (width 0.25, 32×32, batch 4): each method keeps exactly the lab ACT view; bn_head less than fft, head only almost nothing', () => {
    const spec = buildModelSpec({ model: 'mobilenet_v2', width: 0.25, resolution: 32, numClasses: 10, stem: 'cifar' });
    const model = createModel(spec, { seed: 1 });
    const rng = createRng(2);
    const batch: Batch = {
      x: tf.tensor4d(Float32Array.from({ length: 4 * 32 * 32 * 3 }, () => rng.uniform(-1, 1)), [4, 32, 32, 3]),
      y: tf.tensor1d([0, 3, 5, 9], 'int32'),
    };
    try {
      const sets = trainableSets(spec);
      const tensorsBefore = tf.memory().numTensors;
      const kept = Object.fromEntries(Object.entries(sets).map(([method, set]) => [method, measureKept(model, batch, set)]));
      console.log(`kept for backward (bytes): ${JSON.stringify(kept)}`);
      expect(tf.memory().numTensors).toBe(tensorsBefore);

      // Exactly the lab's ACT view, plus the loss's log-probabilities and one-hot labels.
      const lossBytes = 1024;
      for (const [method, set] of Object.entries(sets)) {
        const lab = labActBytes(spec, set, 4);
        expect(kept[method].savedActivationBytes, method).toBeGreaterThanOrEqual(lab);
        expect(kept[method].savedActivationBytes, method).toBeLessThan(lab + lossBytes);
      }
      // bn_head saves no conv input (fft keeps the image and the block inputs, the relu6 outputs
      // being recomputed); x̂, which dx needs, it keeps as fft does.
      expect(kept.bn_head.savedActivationBytes).toBeLessThan(kept.fft.savedActivationBytes - 4 * 32 * 32 * 3 * 4);
      // tfjs's own count also drops the tape's clones of frozen weights.
      expect(kept.bn_head.numBytesGrowth).toBeLessThan(0.75 * kept.fft.numBytesGrowth);
      // Head only: the whole backbone runs off the tape; the classifier keeps its [4, 1280] input.
      expect(kept.head.savedActivationBytes).toBeLessThan(4 * 1280 * 4 + lossBytes);
    } finally {
      tf.dispose([batch.x, batch.y]);
      disposeModel(model);
    }
  });
});

/**
 * The contract's ACT view for the ViT (issue 19), in bytes, written from the contract rather than
 * read from the profiler: on the gradient path, layer norm keeps its input and the per-token mean and
 * 1/σ when its input's gradient is needed or γ trains; attention its qkv input and P [heads, T, T]
 * when its input needs a gradient; gelu its input; a linear (and the patch embedding's conv) its
 * input when its weight trains; the token ops nothing. A buffer kept by two ops counts once.
 */
function vitActBytes(spec: ModelSpec, trainable: ReadonlySet<string>, batchSize: number): number {
  const plan = planGradients(spec, { params: trainable, input: false });
  const nodes = new Map(spec.nodes.map((node) => [node.id, node]));
  const kept = new Map<string, number>();
  const keepInput = (node: ModelSpec['nodes'][number]) => {
    const input = nodes.get(node.inputs[0]);
    if (input) kept.set(input.id, batchSize * numel(input.outShape));
  };
  for (const node of spec.nodes) {
    if (!plan.needsGrad(node.id)) continue;
    const inputNeedsGrad = plan.needsGrad(node.inputs[0]);
    if (node.op === 'layernorm' && (inputNeedsGrad || trainable.has(node.gamma))) {
      keepInput(node);
      kept.set(`${node.id}/mean_and_inverse_std`, batchSize * 2 * node.outShape[0]);
    } else if (node.op === 'attention' && inputNeedsGrad) {
      keepInput(node);
      const tokens = node.outShape[0];
      kept.set(`${node.id}/probabilities`, batchSize * node.heads * tokens * tokens);
    } else if (node.op === 'activation' && node.fn === 'gelu') {
      keepInput(node);
    } else if ((node.op === 'linear' || node.op === 'conv2d') && trainable.has(node.weight)) {
      keepInput(node);
    }
  }
  return 4 * [...kept.values()].reduce((a, b) => a + b, 0);
}

describe('what a ViT step keeps for the backward pass', () => {
  it('vit_tiny (width 0.25, depth 2, cifar, 32×32, batch 4): fft, LN+head, LN β + head, qkv LoRA-like and head only keep exactly the contract', () => {
    const spec = buildModelSpec({ model: 'vit_tiny', width: 0.25, depth: 2, resolution: 32, numClasses: 10, stem: 'cifar' });
    const model = createModel(spec, { seed: 1 });
    const rng = createRng(3);
    const batch: Batch = {
      x: tf.tensor4d(Float32Array.from({ length: 4 * 32 * 32 * 3 }, () => rng.uniform(-1, 1)), [4, 32, 32, 3]),
      y: tf.tensor1d([0, 3, 5, 9], 'int32'),
    };
    try {
      const params = Object.values(spec.params);
      const head = params.filter((p) => p.name.startsWith('head.')).map((p) => p.name);
      const sets: Record<string, Set<string>> = {
        fft: new Set(params.map((p) => p.name)),
        ln_head: new Set([...params.filter((p) => p.role === 'ln_gamma' || p.role === 'ln_beta').map((p) => p.name), ...head]),
        // β alone: layer norms keep nothing, but their inputs' gradients flow (β of norm1 needs the
        // gradient through the block above it).
        ln_beta_head: new Set([...params.filter((p) => p.role === 'ln_beta').map((p) => p.name), ...head]),
        qkv_head: new Set([...params.filter((p) => p.name.endsWith('attn.qkv.weight')).map((p) => p.name), ...head]),
        head: new Set(head),
      };
      const tensorsBefore = tf.memory().numTensors;
      const kept = Object.fromEntries(Object.entries(sets).map(([method, set]) => [method, measureKept(model, batch, set)]));
      console.log(`ViT kept for backward (bytes): ${JSON.stringify(kept)}`);
      expect(tf.memory().numTensors).toBe(tensorsBefore);
      // Exactly the contract plus the loss's own (log-probabilities, one-hot labels), the same bytes
      // whatever trains.
      const lossBytes = kept.head.savedActivationBytes - vitActBytes(spec, sets.head, 4);
      expect(lossBytes).toBeGreaterThan(0);
      expect(lossBytes).toBeLessThan(1024);
      for (const [method, set] of Object.entries(sets)) {
        const contract = vitActBytes(spec, set, 4);
        console.log(`${method}: measured ${kept[method].savedActivationBytes} B, contract ${contract} B`);
        expect(kept[method].savedActivationBytes, method).toBe(contract + lossBytes);
      }
      // Head only: everything below the head runs off the tape; it keeps its [4, 48] input.
      expect(kept.head.savedActivationBytes).toBeLessThanOrEqual(4 * 48 * 4 + lossBytes);
      expect(kept.ln_beta_head.savedActivationBytes).toBeLessThan(kept.ln_head.savedActivationBytes);
    } finally {
      tf.dispose([batch.x, batch.y]);
      disposeModel(model);
    }
  });
});
