// `fit`: what fits my device. For each method, the largest batch whose simultaneous peak of one
// training step (the analytic profiler) fits a device's training budget or --budget-mib; when not
// even batch 1 fits, the smallest peak and what would shrink it. The model and method are the
// configuration flags of `finetune` (the lab's schema and defaults).
import { METHOD_SHORT_NAMES } from '../../src/lab/names';
import { EDGE_DEVICES, edgeDevice, planFit } from '../../src/lab/planner';
import { CONFIG_FLAGS, configFromFlags } from './finetune';
import { CliUsageError, type Subcommand } from './flags';

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

export const fitCommand: Subcommand = {
  name: 'fit',
  summary: 'the largest batch of each method whose training peak fits a device (or a budget), from the analytic profiler',
  flags: [
    { name: 'device', type: { kind: 'id', ids: EDGE_DEVICES.map((d) => d.id) }, description: 'a device preset (its budget: memory minus a stated reserve)' },
    { name: 'budget-mib', type: { kind: 'number', exclusiveMin: 0 }, description: 'a budget in MiB instead of a device' },
    ...CONFIG_FLAGS.filter((flag) => !['task', 'corruption', 'severity', 'data-source', 'epochs', 'patience', 'seed', 'train-images', 'lr', 'base-weights', 'batch'].includes(flag.name)),
    { name: 'json', type: { kind: 'boolean' }, description: 'print JSON {device, budgetBytes, methods: [{method, largestBatch, peakAtLargest, peakAtBatch1, unavailable}], shrink}' },
  ],
  run(flags) {
    if ((flags.device === undefined) === (flags['budget-mib'] === undefined)) throw new CliUsageError('give --device ID or --budget-mib N (one of them)');
    const device = flags.device ? edgeDevice(flags.device as string) : undefined;
    const budgetBytes = device ? device.budgetBytes : Math.floor((flags['budget-mib'] as number) * 2 ** 20);
    const config = configFromFlags(flags);
    const plan = planFit(config, budgetBytes);
    if (flags.json) {
      console.log(JSON.stringify({ device: device ?? null, ...plan }));
      return;
    }
    console.log(`${config.model} w${config.width} ${config.resolution}×${config.resolution}, budget ${mib(budgetBytes)}${device ? ` (${device.name}: ${device.source}; ${device.reserveNote})` : ''}`);
    for (const fit of plan.methods) {
      const name = METHOD_SHORT_NAMES[fit.method].padEnd(6);
      if (fit.unavailable) console.log(`  ${name} cannot run this configuration: ${fit.unavailable}`);
      else if (fit.largestBatch === null) console.log(`  ${name} does not fit: batch 1 needs ${mib(fit.peakAtBatch1)}`);
      else console.log(`  ${name} batch ≤ ${fit.largestBatch} (peak ${mib(fit.peakAtLargest as number)}; batch 1: ${mib(fit.peakAtBatch1)})`);
    }
    for (const shrink of plan.shrink) console.log(`  to shrink it: ${shrink.change} → batch 1 needs ${mib(shrink.peakAtBatch1)}${shrink.fits ? ' (fits)' : ''}`);
  },
};
