// The lab's one zustand store: configuration, run state and results live here; components read
// slices and call actions, and own no shared state.
import { create } from 'zustand';
import type { BackendReport } from '../core/backendInfo';
import type { MethodId, ModelId } from '../core/ids';
import type { AnalyticProfile } from '../core/profile/types';
import type { ProfileRequest, ProfileWorkerRequest, ProfileWorkerResponse, SelfTestResult, WorkerRequest, WorkerResponse } from '../lab/protocol';
import { DEFAULT_CONFIG, hasErrors, validateConfig, withField, type ConfigField, type FieldIssue, type LabConfig } from '../lab/config';
import { decodeNavigation, decodePermalink, hasConfiguration } from '../lab/permalink';
import { edgeDevice, type FitPlan } from '../lab/planner';
import type { RunSummary } from '../lab/results';
import { profileRequestOf } from '../lab/profileMethods';
import { startProfileWorker } from './profileClient';
import { createCustomImagesSlice, type CustomImagesState } from './customImagesSlice';
import { createBaseWeightsSlice, type BaseWeightsState } from './baseWeightsSlice';
import { createRunSlice, type RunSliceState } from './runSlice';
import { createStudySlice, type StudyState } from './studySlice';
import { createHubDownloadsSlice, type HubDownloadsState } from './hubDownloadsSlice';
import { createFindingsSlice, type FindingsState } from './findingsSlice';
import { startTrainingWorker } from './workerClient';

/** The analytic profiles of every method for one model and step, and what they were computed for. */
export interface ProfileSet {
  request: ProfileRequest;
  byMethod: Partial<Record<MethodId, AnalyticProfile>>;
  /** Methods that cannot run this configuration, with why. */
  failures: Partial<Record<MethodId, string>>;
}

/** Which autograd's activation bookkeeping the memory charts show (see the profiler's MemoryView). */
export type MemoryViewChoice = 'analytic' | 'pytorch';
/** Which FLOP counting convention the FLOP charts show. */
export type FlopConventionChoice = 'correct' | 'torch';

export interface LabState extends RunSliceState, CustomImagesState, BaseWeightsState, StudyState, FindingsState, HubDownloadsState {
  backend: BackendReport | null;
  backendError: string | null;
  selfTest: SelfTestResult | null;
  connect: () => void;
  runSelfTest: () => void;

  /** What the form holds, valid or not (a number field being typed may be NaN). */
  config: LabConfig;
  issues: FieldIssue[];
  /** The last configuration without errors: what the charts and the permalink show meanwhile. */
  validConfig: LabConfig;
  setField: <F extends ConfigField>(field: F, value: LabConfig[F]) => void;
  resetConfig: () => void;
  /** Replaces the whole configuration (presets). */
  applyConfig: (config: LabConfig) => void;

  /** Controls a teaching link hides. */
  hiddenFields: ConfigField[];
  /** What the opened link ignored, in words; empty when it was read whole. */
  linkProblems: string[];
  /** Results saved in the opened link ("from the link"), until the configuration changes. */
  linkResults: RunSummary | null;
  loadPermalink: (hash: string) => void;
  dismissLinkProblems: () => void;
  setHiddenFields: (fields: ConfigField[]) => void;

  /** Profiles of the last valid configuration (null until the first arrives). */
  profiles: ProfileSet | null;
  profileError: string | null;
  /** Asks the profile worker for `config`'s profiles unless they are already there or on the way. */
  requestProfiles: (config: LabConfig) => void;
  /** Profiling only, across models (the baseline-profiling preset): every method on each model,
   * at the current configuration's size, batch and options. */
  modelComparison: { models: ModelId[]; byModel: Partial<Record<ModelId, ProfileSet>> } | null;
  compareModels: (models: ModelId[]) => void;
  closeModelComparison: () => void;

  memoryView: MemoryViewChoice;
  flopConvention: FlopConventionChoice;
  /** The device budget line on the memory chart, in MiB; null hides it. */
  deviceBudgetMiB: number | null;
  setMemoryView: (view: MemoryViewChoice) => void;
  setFlopConvention: (convention: FlopConventionChoice) => void;
  setDeviceBudgetMiB: (budget: number | null) => void;
  /** The edge planner's device preset (its budget is deviceBudgetMiB); null for a typed budget. */
  deviceId: string | null;
  chooseDevice: (deviceId: string | null) => void;
  /** The planner's answer for the last requested configuration and budget. */
  fitPlan: { key: string; budgetBytes: number; plan: FitPlan } | null;
  fitError: string | null;
  requestFit: (config: LabConfig, budgetMiB: number) => void;
}

let send: ((request: WorkerRequest) => void) | null = null;
let sendProfile: ((request: ProfileWorkerRequest) => void) | null = null;
/** The latest profile request: only its answer is kept. */
let pendingProfile: { requestId: number; request: ProfileRequest; key: string } | null = null;
/** Typing changes the configuration on every keystroke: the charts' profiles are asked for at most
 * this often (the first at once, the newest at the end of the interval; those between are skipped). */
export const PROFILE_REQUEST_INTERVAL_MS = 250;
let profileTimer: ReturnType<typeof setTimeout> | null = null;
let lastProfileSentAt = Number.NEGATIVE_INFINITY;
/** Requests of the model comparison, by id (a range of their own, apart from the charts'). */
const comparisonRequests = new Map<number, { model: ModelId; request: ProfileRequest }>();
let nextComparisonId = 1_000_000_000;
/** The latest planner request: only its answer is kept (ids of their own range). */
let pendingFit: { requestId: number; key: string; budgetBytes: number } | null = null;
let nextFitId = 2_000_000_000;
/** Profile requests answered to a callback (the findings cards), by id (a range of their own). */
const callbackRequests = new Map<number, (result: { profiles: ProfileSet['byMethod'] } | { error: string }) => void>();
let nextCallbackId = 3_000_000_000;
let customImagesSlice: ReturnType<typeof createCustomImagesSlice<LabState>> | null = null;

function stateFromLink(hash: string) {
  const decoded = decodePermalink(hash);
  return {
    config: decoded.config,
    validConfig: decoded.config,
    issues: validateConfig(decoded.config),
    hiddenFields: decoded.hidden,
    linkProblems: decoded.ignored,
    linkResults: decoded.results,
  };
}

export const useLabStore = create<LabState>((set, get) => {
  // The training worker starts on the first request that needs it, if the lab has not started it yet.
  const toWorker = (request: WorkerRequest) => {
    get().connect();
    send?.(request);
  };
  const runSlice = createRunSlice<LabState>(set, get, toWorker);
  customImagesSlice = createCustomImagesSlice<LabState>(set, get, toWorker);
  const baseWeightsSlice = createBaseWeightsSlice<LabState>(set, get, toWorker);
  const hubDownloadsSlice = createHubDownloadsSlice<LabState>(set, get, toWorker);
  const onMessage = (message: WorkerResponse) => {
    switch (message.type) {
      case 'import_progress':
      case 'import_done':
      case 'import_error':
        customImagesSlice?.onImportMessage(message);
        break;
      case 'pretrain_phase':
      case 'pretrain_progress':
      case 'pretrain_done':
      case 'pretrain_cancelled':
      case 'pretrain_error':
        baseWeightsSlice.onPretrainMessage(message);
        break;
      case 'hub_fetch_progress':
      case 'hub_fetch_done':
      case 'hub_fetch_cancelled':
      case 'hub_fetch_error':
        hubDownloadsSlice.onHubFetchMessage(message);
        break;
      case 'run_started':
      case 'run_phase':
      case 'run_data_progress':
      case 'run_baseline':
      case 'run_progress':
      case 'run_eval':
      case 'run_measured':
      case 'run_done':
      case 'run_error':
        runSlice.onRunMessage(message);
        break;
      case 'export_file':
      case 'export_error':
        runSlice.onExportMessage(message);
        break;
      case 'ready':
        set({ backend: message.report, backendError: null });
        break;
      case 'self_test_result':
        set({ selfTest: message.result });
        break;
      case 'error':
        set({ backendError: message.message });
        break;
    }
  };
  const onProfileMessage = (message: ProfileWorkerResponse) => {
    if (message.type === 'fit_result' || message.type === 'fit_error') {
      if (!pendingFit || message.requestId !== pendingFit.requestId) return;
      if (message.type === 'fit_result') set({ fitPlan: { key: pendingFit.key, budgetBytes: pendingFit.budgetBytes, plan: message.plan }, fitError: null });
      else set({ fitError: message.message });
      return;
    }
    const callback = callbackRequests.get(message.requestId);
    if (callback) {
      callbackRequests.delete(message.requestId);
      callback(message.type === 'profile_result' ? { profiles: message.profiles } : { error: message.message });
      return;
    }
    const comparison = comparisonRequests.get(message.requestId);
    if (comparison) {
      comparisonRequests.delete(message.requestId);
      const current = get().modelComparison;
      if (!current || !current.models.includes(comparison.model)) return;
      if (message.type === 'profile_result') {
        const set_: ProfileSet = { request: comparison.request, byMethod: message.profiles, failures: message.failures };
        set({ modelComparison: { ...current, byModel: { ...current.byModel, [comparison.model]: set_ } } });
      } else set({ profileError: message.message });
      return;
    }
    if (!pendingProfile || message.requestId !== pendingProfile.requestId) return;
    if (message.type === 'profile_result') set({ profiles: { request: pendingProfile.request, byMethod: message.profiles, failures: message.failures }, profileError: null });
    else set({ profileError: message.message });
  };
  return {
    ...runSlice.state,
    ...customImagesSlice.state,
    ...baseWeightsSlice.state,
    ...hubDownloadsSlice.state,
    ...createStudySlice<LabState>(set),
    ...createFindingsSlice<LabState>(set, get, (request, onResult) => {
      const requestId = nextCallbackId++;
      callbackRequests.set(requestId, onResult);
      sendProfile ??= startProfileWorker(onProfileMessage, (message) => set({ profileError: message })).send;
      sendProfile({ type: 'profile', requestId, request });
    }),
    backend: null,
    backendError: null,
    selfTest: null,
    connect: () => {
      if (send) return;
      send = startTrainingWorker(onMessage).send;
      send({ type: 'init' });
    },
    runSelfTest: () => toWorker({ type: 'self_test' }),

    ...stateFromLink(typeof window === 'undefined' ? '' : window.location.hash),
    setField: (field, value) =>
      set((state) => {
        if (Object.is(state.config[field], value)) return {};
        const config = withField(state.config, field, value);
        const issues = validateConfig(config);
        const valid = !hasErrors(issues);
        // Saved results describe the linked configuration only.
        return { config, issues, validConfig: valid ? config : state.validConfig, linkResults: null, sharedResults: null };
      }),
    resetConfig: () => set({ config: { ...DEFAULT_CONFIG }, validConfig: { ...DEFAULT_CONFIG }, issues: validateConfig(DEFAULT_CONFIG), linkResults: null, sharedResults: null }),
    applyConfig: (next) => {
      const issues = validateConfig(next);
      set((state) => ({ config: next, issues, validConfig: hasErrors(issues) ? state.validConfig : next, linkResults: null, sharedResults: null }));
    },

    loadPermalink: (hash) => {
      const navigation = decodeNavigation(hash);
      const view = navigation.view ?? (hasConfiguration(hash) ? 'lab' : get().view);
      // A link that only navigates keeps the configuration on screen.
      set({ ...(hasConfiguration(hash) ? { ...stateFromLink(hash), sharedResults: null } : {}), view, focusedFinding: navigation.finding });
    },
    dismissLinkProblems: () => set({ linkProblems: [] }),
    setHiddenFields: (hiddenFields) => set({ hiddenFields }),

    profiles: null,
    profileError: null,
    requestProfiles: (config) => {
      const request = profileRequestOf(config);
      const key = JSON.stringify(request);
      if (pendingProfile?.key === key) return;
      pendingProfile = { requestId: (pendingProfile?.requestId ?? 0) + 1, request, key };
      if (profileTimer !== null) return; // the scheduled send takes the newest request
      const sendLatest = () => {
        profileTimer = null;
        lastProfileSentAt = performance.now();
        if (!pendingProfile) return;
        sendProfile ??= startProfileWorker(onProfileMessage, (message) => set({ profileError: message })).send;
        sendProfile({ type: 'profile', requestId: pendingProfile.requestId, request: pendingProfile.request });
      };
      const wait = lastProfileSentAt + PROFILE_REQUEST_INTERVAL_MS - performance.now();
      if (wait <= 0) sendLatest();
      else profileTimer = setTimeout(sendLatest, wait);
    },

    modelComparison: null,
    compareModels: (models) => {
      const config = get().validConfig;
      set({ modelComparison: { models, byModel: {} } });
      sendProfile ??= startProfileWorker(onProfileMessage, (message) => set({ profileError: message })).send;
      for (const model of models) {
        const requestId = nextComparisonId++;
        const request = profileRequestOf({ ...config, model });
        comparisonRequests.set(requestId, { model, request });
        sendProfile({ type: 'profile', requestId, request });
      }
    },
    closeModelComparison: () => set({ modelComparison: null }),

    memoryView: 'analytic',
    flopConvention: 'correct',
    deviceBudgetMiB: null,
    setMemoryView: (memoryView) => set({ memoryView }),
    setFlopConvention: (flopConvention) => set({ flopConvention }),
    setDeviceBudgetMiB: (deviceBudgetMiB) => set({ deviceBudgetMiB, deviceId: null }),
    deviceId: null,
    chooseDevice: (deviceId) => {
      const device = deviceId ? edgeDevice(deviceId) : undefined;
      set({ deviceId: device ? device.id : null, deviceBudgetMiB: device ? device.budgetBytes / 2 ** 20 : null });
    },
    fitPlan: null,
    fitError: null,
    requestFit: (config, budgetMiB) => {
      const budgetBytes = Math.floor(budgetMiB * 2 ** 20);
      const key = JSON.stringify([config, budgetBytes]);
      if (pendingFit?.key === key) return;
      pendingFit = { requestId: nextFitId++, key, budgetBytes };
      sendProfile ??= startProfileWorker(onProfileMessage, (message) => set({ profileError: message })).send;
      sendProfile({ type: 'fit', requestId: pendingFit.requestId, config, budgetBytes });
    },
  };
});

// While the task is the user's images, Classes follows the imported class count.
useLabStore.subscribe((state, previous) => customImagesSlice?.syncClasses(state, previous));
