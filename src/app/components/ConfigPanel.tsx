import { methodName } from '../../lab/names';
import { useLabStore } from '../store';
import { BaseWeights } from './BaseWeights';
import { CustomImages } from './CustomImages';
import { DataCache } from './DataCache';
import { CheckboxField, NumberField, SelectField } from './fields';
import { MethodNote } from './MethodNote';
import { frozenWeightsProblem } from '../../core/quant/quantizeBase';

/** The left column: every configuration field, grouped as a user thinks of them. */
export function ConfigPanel() {
  const resetConfig = useLabStore((s) => s.resetConfig);
  const model = useLabStore((s) => s.config.model);
  return (
    <form className="config-panel" aria-label="Configuration" onSubmit={(event) => event.preventDefault()}>
      <fieldset>
        <legend>Model</legend>
        <SelectField field="model" />
        <div className="field-row">
          <NumberField field="width" />
          <NumberField field="depth" />
          <NumberField field="resolution" />
        </div>
        <div className="field-row">
          <SelectField field="stem" />
          <NumberField field="numClasses" />
        </div>
        <BaseWeights />
      </fieldset>
      <fieldset>
        <legend>Method</legend>
        <SelectField field="method" optionLabel={(id) => methodName(id, model)} />
        <MethodNote />
        <FrozenWeightsField />
        <div className="field-row">
          <NumberField field="rank" />
          <NumberField field="alpha" />
        </div>
        <CheckboxField field="adaptDepthwise" />
        <CheckboxField field="trainBatchNorm" />
        <div className="field-row">
          <NumberField field="galoreUpdateGap" />
          <NumberField field="galoreScale" />
        </div>
        <NumberField field="galoreThreshold" />
      </fieldset>
      <fieldset>
        <legend>Task and data</legend>
        <SelectField field="task" />
        <div className="field-row">
          <SelectField field="corruption" />
          <NumberField field="severity" />
        </div>
        <SelectField field="dataSource" />
        <CustomImages />
        <DataCache />
        <NumberField field="trainImages" />
      </fieldset>
      <fieldset>
        <legend>Training</legend>
        <div className="field-row">
          <SelectField field="optimizer" />
          <NumberField field="learningRate" />
        </div>
        <div className="field-row">
          <NumberField field="batchSize" />
          <NumberField field="epochs" />
        </div>
        <div className="field-row">
          <NumberField field="patience" />
          <NumberField field="seed" />
        </div>
      </fieldset>
      <button type="button" className="secondary" onClick={resetConfig}>
        Reset to the study’s defaults
      </button>
    </form>
  );
}

/** Frozen weights: unavailable (with why) for the methods that update the base weights, unless a
 * link set a quantized base there (then the validation error says to choose fp32, and the control
 * stays usable to do so). */
function FrozenWeightsField() {
  const method = useLabStore((s) => s.config.method);
  const model = useLabStore((s) => s.config.model);
  const frozenWeights = useLabStore((s) => s.config.frozenWeights);
  const updatesBase = frozenWeightsProblem(method, 'int8') !== null;
  const reason = updatesBase && frozenWeights === 'fp32' ? `${methodName(method, model)} updates the base weights themselves, so they stay fp32.` : null;
  return <SelectField field="frozenWeights" disabledReason={reason} />;
}
