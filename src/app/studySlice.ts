// The study result the page shows beside the study's accuracy claims: the one shipped with the lab
// (public/study/quick.json, made by `npm run study -- --quick`), or a study JSON the user loads.
// Every result is checked whole (parseStudyReport recomputes its cells and verdicts): one that
// does not read, is of another schema, or whose numbers do not follow from its runs is refused
// with the reason, and the previous result stays.
import type { StoreApi } from 'zustand';
import { parseStudyReport, type StudyReport } from '../lab/study/report';

/** Where the shipped study result is served, relative to the page. */
export const SHIPPED_STUDY_PATH = 'study/quick.json';

export interface LoadedStudy {
  report: StudyReport;
  /** In words: "the shipped study result" or the file's name. */
  source: string;
}

export interface StudyState {
  study: LoadedStudy | null;
  studyError: string | null;
  loadShippedStudy: () => Promise<void>;
  loadStudyFile: (file: File) => Promise<void>;
}

export function createStudySlice<S extends StudyState>(set: StoreApi<S>['setState']): StudyState {
  const patch = (partial: Partial<StudyState>) => set(partial as unknown as Partial<S>);
  const accept = (text: string, source: string) => {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      patch({ studyError: `${source} was refused: it is not JSON (${error instanceof Error ? error.message : String(error)}).` });
      return;
    }
    const parsed = parseStudyReport(json);
    if ('error' in parsed) patch({ studyError: `${source} was refused: ${parsed.error}. Nothing of it is shown.` });
    else patch({ study: { report: parsed.report, source }, studyError: null });
  };
  return {
    study: null,
    studyError: null,
    loadShippedStudy: async () => {
      const url = new URL(SHIPPED_STUDY_PATH, document.baseURI).href;
      try {
        const response = await fetch(url);
        if (response.status === 404) return; // None shipped: accuracy claims say "not measured".
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        accept(await response.text(), 'the shipped study result');
      } catch (error) {
        patch({ studyError: `The shipped study result could not be loaded from ${url}: ${error instanceof Error ? error.message : String(error)}.` });
      }
    },
    loadStudyFile: async (file) => accept(await file.text(), file.name),
  };
}
