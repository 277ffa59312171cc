// A quantized frozen weight (quant/blockwise.ts) as float32, one pass.
import * as tf from '@tensorflow/tfjs';
import { elementwise, type KernelFuncs, run } from './programs';
import { KERNELS } from './names';
import { NF4_CODE_BOOK, QUANT_BLOCK } from '../../quant/blockwise';

export const QUANTIZED_KERNELS: KernelFuncs = {
  // A quantized weight (quant/blockwise.ts) as float32: one invocation per value unpacks its code
  // from the int32 words (int8: sign-extended byte; NF4: nibble into the code book) and scales it by
  // its block's absmax, rounded as quant/blockwise.ts's dequantizeCode.
  [KERNELS.dequantize]: ({ inputs, backend, attrs }) => {
    const { codes, scales } = inputs as Record<string, tf.TensorInfo>;
    const format = attrs?.format as 'int8' | 'nf4';
    const shape = attrs?.shape as number[];
    const body =
      format === 'int8'
        ? `let word = Codes[index / 4];
      let q = (word << u32(24 - 8 * (index % 4))) >> 24u;
      setOutputAtIndex(index, (f32(q) * Scales[index / ${QUANT_BLOCK}]) / 127.0);`
        : `var book = array<f32, 16>(${NF4_CODE_BOOK.map((v) => v.toPrecision(17)).join(', ')});
      let nibble = (Codes[index / 8] >> u32(4 * (index % 8))) & 15;
      setOutputAtIndex(index, book[nibble] * Scales[index / ${QUANT_BLOCK}]);`;
    const program = elementwise(`lab_dequantize_${format}`, ['Codes', 'Scales'], shape, body, '', false);
    return run(backend, program, [codes, scales]);
  },
};
