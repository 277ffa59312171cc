// The findings tour's state: which view is open (the tour or the lab), which card a link points at,
// and the analytic profiles the cards read (every method on each of FINDING_MODELS at the study's
// profiling setting, computed by the profile worker like the charts' own).
import type { StoreApi } from 'zustand';
import type { LabConfig } from '../lab/config';
import { findingById, findingRequests, tryItConfig, type FindingProfileKey, type FindingProfiles } from '../lab/findings';
import type { FindingId } from '../lab/ids';
import type { ProfiledRequest } from '../lab/labMeasurements';
import { decodeNavigation, hasConfiguration, type LabView } from '../lab/permalink';
import type { ProfileRequest } from '../lab/protocol';

export interface FindingsState {
  view: LabView;
  /** The card a link pointed at (scrolled to and outlined). */
  focusedFinding: FindingId | null;
  /** The cards' profiles, by model (and quantized base); one is missing until its answer arrives. */
  findingsProfiles: FindingProfiles;
  findingsError: string | null;
  openLab: () => void;
  openFindings: (finding?: FindingId | null) => void;
  /** Opens the lab on a card's configuration. */
  tryFinding: (finding: FindingId) => void;
  /** Asks for the cards' profiles (once per set of requests). */
  requestFindingsProfiles: () => void;
}

/** Set once the tour has been shown: later visits of the bare address open the lab. */
const VISITED_KEY = 'peft-edge-lab:visited';

function firstVisit(): boolean {
  try {
    const first = window.localStorage.getItem(VISITED_KEY) === null;
    window.localStorage.setItem(VISITED_KEY, '1');
    return first;
  } catch {
    return true; // no storage (private mode, a sandboxed frame): every visit is a first one
  }
}

/** The view a page opened at `hash` shows: the one the link names; the lab for a configuration
 * link; the tour on a first visit of the bare address, else the lab. */
export function initialView(hash: string, isFirstVisit: () => boolean = firstVisit): Pick<FindingsState, 'view' | 'focusedFinding'> {
  const navigation = decodeNavigation(hash);
  if (navigation.view) return { view: navigation.view, focusedFinding: navigation.finding };
  if (hasConfiguration(hash)) return { view: 'lab', focusedFinding: null };
  return { view: isFirstVisit() ? 'findings' : 'lab', focusedFinding: null };
}

interface Host {
  validConfig: LabConfig;
  applyConfig: (config: LabConfig) => void;
}

export function createFindingsSlice<S extends FindingsState & Host>(
  set: StoreApi<S>['setState'],
  get: StoreApi<S>['getState'],
  profile: (request: ProfileRequest, onResult: (result: { profiles: ProfiledRequest['byMethod'] } | { error: string }) => void) => void,
): FindingsState {
  const patch = (partial: Partial<FindingsState>) => set(partial as Partial<S>);
  let requestedKey: string | null = null;
  return {
    ...initialView(typeof window === 'undefined' ? '' : window.location.hash),
    findingsProfiles: {},
    findingsError: null,
    openLab: () => patch({ view: 'lab', focusedFinding: null }),
    openFindings: (finding = null) => patch({ view: 'findings', focusedFinding: finding }),
    tryFinding: (id) => {
      get().applyConfig(tryItConfig(findingById(id), get().validConfig));
      patch({ view: 'lab', focusedFinding: null });
    },
    requestFindingsProfiles: () => {
      const requests = findingRequests(get().validConfig);
      const key = JSON.stringify(requests);
      if (key === requestedKey) return;
      requestedKey = key;
      patch({ findingsProfiles: {}, findingsError: null });
      for (const [profileKey, request] of Object.entries(requests) as [FindingProfileKey, ProfileRequest][]) {
        profile(request, (result) => {
          if (requestedKey !== key) return; // a newer set was asked for
          if ('error' in result) patch({ findingsError: result.error });
          else patch({ findingsProfiles: { ...get().findingsProfiles, [profileKey]: { request, byMethod: result.profiles } } });
        });
      }
    },
  };
}
