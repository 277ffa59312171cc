import { memo, useState } from 'react';
import { FLOP_PHASES } from '../../core/ids';
import { BYTES_PER_FLOAT, type FlopsByPhase, type NodeFlops } from '../../core/profile/types';
import { formatBytes, formatCount, formatFlops } from '../format';
import { methodShortName, MODEL_NAMES } from '../../lab/names';
import type { ChartSnapshot } from './chartSnapshot';
import { ChartCard } from './ChartCard';

const nodeFlopsTotal = (node: NodeFlops) =>
  Object.values(node.byKind).reduce((sum, phases: FlopsByPhase | undefined) => sum + (phases ? FLOP_PHASES.reduce((s, phase) => s + phases[phase], 0) : 0), 0);

/** Per layer of the configured model and method: parameters, what trains, what is kept for the
 * backward pass, and FLOPs, in the views the charts show. */
export const LayerTable = memo(function LayerTable({ snapshot }: { snapshot: ChartSnapshot }) {
  const { method, model, memoryView: view, flopConvention: convention } = snapshot;
  const profile = snapshot.profiles?.byMethod[method];
  const [onlyWithParams, setOnlyWithParams] = useState(true);
  if (!profile) return null;
  const flops = convention === 'correct' ? profile.flops.correct : profile.flops.torchConvention;
  const flopsByNode = new Map(flops.perNode.map((node) => [node.nodeId, nodeFlopsTotal(node)]));
  const rows = profile.nodes.filter((node) => !onlyWithParams || node.paramBytes > 0);
  const totals = rows.reduce(
    (sum, node) => ({
      params: sum.params + node.paramBytes / BYTES_PER_FLOAT,
      trainable: sum.trainable + node.gradBytes / BYTES_PER_FLOAT,
      kept: sum.kept + node.keptBytes[view],
      flops: sum.flops + (flopsByNode.get(node.nodeId) ?? 0),
    }),
    { params: 0, trainable: 0, kept: 0, flops: 0 },
  );
  return (
    <ChartCard
      title={`Layers of ${MODEL_NAMES[model]} with ${methodShortName(method, model)}`}
      explanation={
        <>
          Parameters count every weight and buffer (BatchNorm running statistics too). “Kept for backward” is what the {view === 'analytic' ? 'lab engine' : 'PyTorch autograd'} keeps of this layer’s
          tensors for the backward pass (a tensor kept by two layers appears at both); FLOPs per step, {convention === 'correct' ? 'correct count' : 'PyTorch counter convention'}.
        </>
      }
      controls={
        <label className="inline-check">
          <input type="checkbox" checked={onlyWithParams} onChange={(event) => setOnlyWithParams(event.target.checked)} /> Only layers with parameters
        </label>
      }
    >
      <div className="table-scroll">
        <table className="layer-table">
          <thead>
            <tr>
              <th scope="col">Layer</th>
              <th scope="col">Op</th>
              <th scope="col">Params</th>
              <th scope="col">Trainable</th>
              <th scope="col">Output</th>
              <th scope="col">Kept for backward</th>
              <th scope="col">FLOPs</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((node) => (
              <tr key={node.nodeId} className={node.gradBytes > 0 ? 'trains' : undefined}>
                <th scope="row">
                  <code>{node.nodeId}</code>
                </th>
                <td>{node.op}</td>
                <td>{formatCount(node.paramBytes / BYTES_PER_FLOAT)}</td>
                <td>{node.gradBytes > 0 ? formatCount(node.gradBytes / BYTES_PER_FLOAT) : '—'}</td>
                <td>{formatBytes(node.outputBytes)}</td>
                <td>{node.keptBytes[view] > 0 ? formatBytes(node.keptBytes[view]) : '—'}</td>
                <td>{formatFlops(flopsByNode.get(node.nodeId) ?? 0)}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row">Total ({rows.length} layers)</th>
              <td />
              <td data-testid="layer-total-params">{formatCount(totals.params)}</td>
              <td data-testid="layer-total-trainable">{formatCount(totals.trainable)}</td>
              <td />
              <td>{formatBytes(totals.kept)}</td>
              <td>{formatFlops(totals.flops)}</td>
            </tr>
          </tfoot>
        </table>
      </div>
    </ChartCard>
  );
});
