// The profile worker: costs every method for the charts (shapes only, milliseconds), off the
// page's bundle because the methods registry imports tfjs.
/// <reference lib="webworker" />
import type { ProfileWorkerRequest, ProfileWorkerResponse } from '../worker/protocol';
import { METHOD_REGISTRY_NOTES, profileMethods } from './profileMethods';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (message: ProfileWorkerResponse) => scope.postMessage(message);

scope.onmessage = (event: MessageEvent<ProfileWorkerRequest>) => {
  const { requestId, request } = event.data;
  try {
    post({ type: 'profile_result', requestId, ...profileMethods(request), notes: METHOD_REGISTRY_NOTES });
  } catch (error) {
    post({ type: 'profile_error', requestId, message: error instanceof Error ? error.message : String(error) });
  }
};
