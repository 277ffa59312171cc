import { useMemo } from 'react';
import { claimById, claimText } from '../../lab/claims';
import { methodShortName, MODEL_NAMES } from '../../lab/names';
import { studyFigures } from '../../lab/study/figures';
import { useLabStore } from '../store';
import { ChartCard } from './ChartCard';

const pct = (value: number) => (Number.isFinite(value) ? `${(100 * value).toFixed(1)}%` : '—');

/** What each method buys: a study result's cells (accuracy over seeds with 95% intervals), the
 * study's accuracy claims judged on them, and its figures; a user's own study JSON can replace it. */
export function StudyResults() {
  const study = useLabStore((s) => s.study);
  const error = useLabStore((s) => s.studyError);
  const loadStudyFile = useLabStore((s) => s.loadStudyFile);
  const figures = useMemo(() => (study ? studyFigures(study.report) : []), [study]);
  const picker = (
    <label className="file-button">
      Load a study result (JSON)
      <input
        type="file"
        accept="application/json,.json"
        onChange={(event) => {
          const file = event.target.files?.[0];
          if (file) void loadStudyFile(file);
          event.target.value = '';
        }}
      />
    </label>
  );
  const report = study?.report;
  return (
    <ChartCard
      title="What each method buys (study result)"
      controls={picker}
      explanation={
        report ? (
          <>
            {study.source}: <code>{report.command}</code>, {report.runs.length} runs on tfjs {report.backend} — {report.settings.trainImages} training images × {report.settings.epochs} epochs, width {report.settings.width},{' '}
            {report.settings.resolution}×{report.settings.resolution}. Accuracy is the mean over seeds with its 95% Student-t interval.
          </>
        ) : (
          'No study result is loaded: npm run study writes one; load it here.'
        )
      }
    >
      {error && (
        <p role="alert" className="field-error">
          {error}
        </p>
      )}
      {report && (
        <>
          <table className="study-verdicts" aria-label="The study’s accuracy claims, judged on this result">
            <thead>
              <tr>
                <th scope="col">The study found</th>
                <th scope="col">Lab verdict</th>
                <th scope="col">Measured</th>
              </tr>
            </thead>
            <tbody>
              {report.verdicts.map((v) => (
                <tr key={v.claimId} data-claim={v.claimId}>
                  <td>{claimText(claimById(v.claimId))}</td>
                  <td data-verdict={v.verdict}>{v.verdict}</td>
                  <td>
                    <ul className="evidence">
                      {v.evidence.map((line) => (
                        <li key={line}>{line}</li>
                      ))}
                    </ul>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <table className="study-cells" aria-label="Study cells">
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col">Task</th>
                <th scope="col">Method</th>
                <th scope="col">Before</th>
                <th scope="col">After [95% CI]</th>
                <th scope="col">Seeds</th>
              </tr>
            </thead>
            <tbody>
              {report.cells.map((cell) => (
                <tr key={`${cell.model}/${cell.task}/${cell.method}/${cell.rank}`}>
                  <td>{MODEL_NAMES[cell.model]}</td>
                  <td>{cell.task}</td>
                  <td>
                    {methodShortName(cell.method, cell.model)}
                    {cell.rank === null ? '' : ` r=${cell.rank}`}
                  </td>
                  <td>{pct(cell.baselineAccuracy.mean)}</td>
                  <td>
                    {pct(cell.finalAccuracy.mean)} [{pct(cell.finalAccuracy.low)}, {pct(cell.finalAccuracy.high)}]
                  </td>
                  <td>{cell.seeds.length}{cell.failures.length > 0 ? ` (${cell.failures.length} failed)` : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="study-figures">
            {figures.map((figure) => (
              <figure key={figure.id}>
                <img src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(figure.svg)}`} alt={`${figure.title}: ${figure.description}`} />
                <figcaption>
                  <strong>{figure.title}.</strong> {figure.description}
                </figcaption>
              </figure>
            ))}
          </div>
        </>
      )}
    </ChartCard>
  );
}
