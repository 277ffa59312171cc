// The names the lab's kernels are registered under (for every backend that has them: webgpu/ here,
// cpu.ts for the CPU and wasm backends); tf.profile reports them.
export const KERNELS = {
  batchMoments: 'LabBatchMoments',
  batchNormApply: 'LabBatchNormApply',
  batchNormGradSums: 'LabBatchNormGradSums',
  batchNormInputGrad: 'LabBatchNormInputGrad',
  activation: 'LabActivation',
  activationGrad: 'LabActivationGrad',
  matMul: 'LabMatMul',
  spatialMean: 'LabSpatialMean',
  adamMoment: 'LabAdamMoment',
  adamParam: 'LabAdamParam',
  adamMulti: 'LabAdamMulti',
  adamDirection: 'LabAdamDirection',
  addScaled: 'LabAddScaled',
  channelAffine: 'LabChannelAffine',
  channelSum: 'LabChannelSum',
  channelSums: 'LabChannelSums',
  doraNorm: 'LabDoraNorm',
  conv2d: 'LabConv2D',
  depthwiseInputGrad: 'LabDepthwiseInputGrad',
  depthwiseConv: 'LabDepthwiseConv',
  depthwiseFilterGrad: 'LabDepthwiseFilterGrad',
  layerNorm: 'LabLayerNorm',
  scaledSoftmax: 'LabScaledSoftmax',
  scaledSoftmaxGrad: 'LabScaledSoftmaxGrad',
  layerNormGradSums: 'LabLayerNormGradSums',
  layerNormInputGrad: 'LabLayerNormInputGrad',
  dequantize: 'LabDequantize',
} as const;

/** A kernel of the lab's, by its registered name. */
export type KernelName = (typeof KERNELS)[keyof typeof KERNELS];
