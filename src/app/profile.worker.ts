// The profile worker: costs every method for the charts off the main thread (see ProfileWorkerRequest
// in src/lab/protocol.ts for why a worker); it loads no tfjs.
/// <reference lib="webworker" />
import type { ProfileWorkerRequest, ProfileWorkerResponse } from '../lab/protocol';
import { profileMethods } from '../lab/profileMethods';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (message: ProfileWorkerResponse) => scope.postMessage(message);

scope.onmessage = (event: MessageEvent<ProfileWorkerRequest>) => {
  const { requestId, request } = event.data;
  try {
    post({ type: 'profile_result', requestId, ...profileMethods(request) });
  } catch (error) {
    post({ type: 'profile_error', requestId, message: error instanceof Error ? error.message : String(error) });
  }
};
