// SpecBuilder: appends nodes and parameters to a ModelSpec while tracking per-example shapes, so
// each architecture file reads like torchvision's module definitions. Parameters are registered in
// the order their modules are created, which is torchvision's `state_dict` order.
//
// torch's state_dict also holds one `num_batches_tracked` buffer per BatchNorm (an int64 counter):
// it is no parameter and has no place in a spec; weight import skips it (see src/core/weights).
import type {
  ActivationFn,
  InitSpec,
  ModelOptions,
  ModelSpec,
  NodeSpec,
  ParamRole,
  ParamSpec,
} from './spec';

/** Invalid model options (a bad value, or a resolution at which some layer's output is empty). */
export class ModelOptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelOptionsError';
  }
}

/** torchvision's `_make_divisible`: round to the nearest multiple of `divisor`, never below
 * `divisor`, and never more than 10% below `value`. */
export function makeDivisible(value: number, divisor = 8): number {
  let rounded = Math.max(divisor, Math.floor((value + divisor / 2) / divisor) * divisor);
  if (rounded < 0.9 * value) rounded += divisor;
  return rounded;
}

/** torch's conv/pool output size with symmetric padding: floor((n + 2p − k) / s) + 1. */
export function convOutputSize(size: number, kernel: number, stride: number, padding: number): number {
  return Math.floor((size + 2 * padding - kernel) / stride) + 1;
}

export interface ConvOptions {
  outChannels: number;
  kernel: number;
  stride?: number;
  /** Default: torch's `(kernel - 1) // 2` ("same" for odd kernels at stride 1). */
  padding?: number;
  /** 'depthwise' makes groups = channels (torchvision's `groups=hidden_dim`). */
  groups?: 1 | 'depthwise';
  bias?: boolean;
  /** Default: kaiming_normal_(mode='fan_out') and a zero bias, torchvision's CNN init. */
  weightInit?: InitSpec;
  biasInit?: InitSpec;
}

export interface BatchNormOptions {
  eps: number;
  momentum: number;
}

export interface LinearOptions {
  outFeatures: number;
  weightInit: InitSpec;
  biasInit: InitSpec;
}

/** kaiming_normal_(mode='fan_out'), the conv init of every torchvision model built here. */
const CONV_WEIGHT_INIT: InitSpec = { kind: 'kaiming_normal_fan_out' };

export class SpecBuilder {
  private readonly nodes: NodeSpec[] = [];
  private params: Record<string, ParamSpec> = {};
  private readonly shapes = new Map<string, number[]>();

  constructor(private readonly options: ModelOptions) {
    const shape = [options.resolution, options.resolution, 3];
    this.push({ op: 'input', id: 'input', inputs: [], outShape: shape });
  }

  /** The input node's id. */
  get input(): string {
    return 'input';
  }

  shapeOf(id: string): number[] {
    const shape = this.shapes.get(id);
    if (!shape) throw new Error(`SpecBuilder: unknown node ${id}`);
    return shape;
  }

  channelsOf(id: string): number {
    const shape = this.shapeOf(id);
    return shape[shape.length - 1];
  }

  conv(id: string, input: string, options: ConvOptions): string {
    const [h, w, inChannels] = this.shapeOf(input);
    const { outChannels, kernel } = options;
    const stride = options.stride ?? 1;
    const padding = options.padding ?? Math.floor((kernel - 1) / 2);
    const depthwise = options.groups === 'depthwise';
    if (depthwise && outChannels !== inChannels) {
      throw new Error(`SpecBuilder: depthwise conv ${id} needs out = in channels (${outChannels} ≠ ${inChannels})`);
    }
    const groups = depthwise ? inChannels : 1;
    const outH = convOutputSize(h, kernel, stride, padding);
    const outW = convOutputSize(w, kernel, stride, padding);
    this.checkSpatial(id, outH, outW);
    const receptive = kernel * kernel;
    const fanIn = (inChannels / groups) * receptive;
    const fanOut = outChannels * receptive;
    const weight = `${id}.weight`;
    const weightShape = depthwise ? [kernel, kernel, inChannels, 1] : [kernel, kernel, inChannels, outChannels];
    this.param(weight, weightShape, 'conv_weight', options.weightInit ?? CONV_WEIGHT_INIT, fanIn, fanOut);
    let bias: string | undefined;
    if (options.bias) {
      bias = `${id}.bias`;
      this.param(bias, [outChannels], 'conv_bias', options.biasInit ?? { kind: 'zeros' }, fanIn, fanOut);
    }
    return this.push({
      op: 'conv2d',
      id,
      inputs: [input],
      outShape: [outH, outW, outChannels],
      inChannels,
      outChannels,
      kernel,
      stride,
      padding,
      groups,
      weight,
      ...(bias ? { bias } : {}),
    });
  }

  batchNorm(id: string, input: string, options: BatchNormOptions): string {
    const channels = this.channelsOf(input);
    // 1-D parameters get fan 1: torch cannot compute fans for them and no init here needs one.
    const names = {
      gamma: this.param(`${id}.weight`, [channels], 'bn_gamma', { kind: 'ones' }, 1, 1),
      beta: this.param(`${id}.bias`, [channels], 'bn_beta', { kind: 'zeros' }, 1, 1),
      runningMean: this.param(`${id}.running_mean`, [channels], 'bn_running_mean', { kind: 'zeros' }, 1, 1),
      runningVar: this.param(`${id}.running_var`, [channels], 'bn_running_var', { kind: 'ones' }, 1, 1),
    };
    return this.push({
      op: 'batchnorm',
      id,
      inputs: [input],
      outShape: this.shapeOf(input),
      channels,
      ...names,
      eps: options.eps,
      momentum: options.momentum,
    });
  }

  activation(id: string, input: string, fn: ActivationFn): string {
    return this.push({ op: 'activation', id, inputs: [input], outShape: this.shapeOf(input), fn });
  }

  add(id: string, a: string, b: string): string {
    const shape = this.shapeOf(a);
    const other = this.shapeOf(b);
    if (shape.join() !== other.join()) {
      throw new Error(`SpecBuilder: add ${id} of shapes [${shape.join(', ')}] and [${other.join(', ')}]`);
    }
    return this.push({ op: 'add', id, inputs: [a, b], outShape: shape });
  }

  scaleChannels(id: string, x: string, scale: string): string {
    return this.push({ op: 'scale_channels', id, inputs: [x, scale], outShape: this.shapeOf(x) });
  }

  globalAvgPool(id: string, input: string): string {
    return this.push({ op: 'global_avg_pool', id, inputs: [input], outShape: [1, 1, this.channelsOf(input)] });
  }

  maxPool(id: string, input: string, kernel: number, stride: number, padding: number): string {
    const [h, w, c] = this.shapeOf(input);
    const outH = convOutputSize(h, kernel, stride, padding);
    const outW = convOutputSize(w, kernel, stride, padding);
    this.checkSpatial(id, outH, outW);
    return this.push({ op: 'maxpool', id, inputs: [input], outShape: [outH, outW, c], kernel, stride, padding });
  }

  flatten(id: string, input: string): string {
    const size = this.shapeOf(input).reduce((a, b) => a * b, 1);
    return this.push({ op: 'flatten', id, inputs: [input], outShape: [size] });
  }

  /** A linear layer over the last dimension: a flat [in] input, or tokens [T, in]. */
  linear(id: string, input: string, options: LinearOptions): string {
    const inShape = this.shapeOf(input);
    if (inShape.length !== 1 && inShape.length !== 2) {
      throw new Error(`SpecBuilder: linear ${id} needs [features] or tokens [T, features], got [${inShape.join(', ')}]`);
    }
    const inFeatures = inShape[inShape.length - 1];
    const { outFeatures } = options;
    const weight = this.param(`${id}.weight`, [inFeatures, outFeatures], 'linear_weight', options.weightInit, inFeatures, outFeatures);
    const bias = this.param(`${id}.bias`, [outFeatures], 'linear_bias', options.biasInit, inFeatures, outFeatures);
    const outShape = [...inShape.slice(0, -1), outFeatures];
    return this.push({ op: 'linear', id, inputs: [input], outShape, inFeatures, outFeatures, weight, bias });
  }

  /** nn.LayerNorm over the last dimension: weight ones, bias zeros. */
  layerNorm(id: string, input: string, eps: number): string {
    const features = this.channelsOf(input);
    const gamma = this.param(`${id}.weight`, [features], 'ln_gamma', { kind: 'ones' }, 1, 1);
    const beta = this.param(`${id}.bias`, [features], 'ln_beta', { kind: 'zeros' }, 1, 1);
    return this.push({ op: 'layernorm', id, inputs: [input], outShape: this.shapeOf(input), features, gamma, beta, eps });
  }

  /** [H, W, C] → tokens [H·W, C]. */
  toTokens(id: string, input: string): string {
    const [h, w, c] = this.shapeOf(input);
    return this.push({ op: 'to_tokens', id, inputs: [input], outShape: [h * w, c] });
  }

  /** Prepends a class token and adds a learned position embedding: [T, D] → [T + 1, D]. The
   * parameters are named as timm's (top-level `cls_token`, `pos_embed`), registered first. */
  tokenEmbed(id: string, input: string, init: { classToken: InitSpec; positionEmbedding: InitSpec }): string {
    const [tokens, dim] = this.shapeOf(input);
    const classToken = this.param('cls_token', [1, dim], 'class_token', init.classToken, 1, 1);
    const positionEmbedding = this.param('pos_embed', [tokens + 1, dim], 'position_embedding', init.positionEmbedding, 1, 1);
    // timm's state_dict lists a module's own parameters before its children's: these come first.
    const { [classToken]: cls, [positionEmbedding]: pos, ...rest } = this.params;
    this.params = { [classToken]: cls, [positionEmbedding]: pos, ...rest };
    return this.push({ op: 'token_embed', id, inputs: [input], outShape: [tokens + 1, dim], classToken, positionEmbedding });
  }

  /** Multi-head self-attention over a qkv projection's output [T, 3·D] → [T, D]. */
  attention(id: string, qkv: string, heads: number): string {
    const [tokens, width] = this.shapeOf(qkv);
    const dim = width / 3;
    if (!Number.isInteger(dim) || dim % heads !== 0) {
      throw new Error(`SpecBuilder: attention ${id} needs 3·heads·headDim columns, got ${width} for ${heads} heads`);
    }
    const headDim = dim / heads;
    return this.push({ op: 'attention', id, inputs: [qkv], outShape: [tokens, dim], heads, headDim, scale: 1 / Math.sqrt(headDim) });
  }

  /** Tokens [T, D] → the first (class) token's [D]. */
  classToken(id: string, input: string): string {
    return this.push({ op: 'class_token', id, inputs: [input], outShape: [this.channelsOf(input)] });
  }

  dropout(id: string, input: string, p: number): string {
    return this.push({ op: 'dropout', id, inputs: [input], outShape: this.shapeOf(input), p });
  }

  /** The spec, ending at `output`. `classifier`: the head's linear layers (default: every linear
   * layer, which in the CNNs exist only in the head). */
  build(output: string, classifier?: readonly string[]): ModelSpec {
    this.shapeOf(output);
    const head = classifier ?? this.nodes.filter((node) => node.op === 'linear').map((node) => node.id);
    for (const id of head) {
      if (this.nodes.find((node) => node.id === id)?.op !== 'linear') throw new Error(`SpecBuilder: classifier ${id} is no linear layer`);
    }
    return { options: { ...this.options }, nodes: [...this.nodes], params: { ...this.params }, output, classifier: [...head] };
  }

  private push(node: NodeSpec): string {
    if (this.shapes.has(node.id)) throw new Error(`SpecBuilder: duplicate node id ${node.id}`);
    for (const input of node.inputs) this.shapeOf(input);
    this.nodes.push(node);
    this.shapes.set(node.id, node.outShape);
    return node.id;
  }

  private param(name: string, shape: number[], role: ParamRole, init: InitSpec, fanIn: number, fanOut: number): string {
    if (name in this.params) throw new Error(`SpecBuilder: duplicate parameter ${name}`);
    const trainable = role !== 'bn_running_mean' && role !== 'bn_running_var';
    this.params[name] = { name, shape, role, trainable, init, fanIn, fanOut };
    return name;
  }

  private checkSpatial(id: string, outH: number, outW: number): void {
    if (outH < 1 || outW < 1) {
      throw new ModelOptionsError(
        `resolution ${this.options.resolution} is too small for ${this.options.model}: ${id} would output ${outH}×${outW}`,
      );
    }
  }
}
