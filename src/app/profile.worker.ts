// The profile worker: costs every method for the charts, and plans what fits a device, off the main thread (see ProfileWorkerRequest
// in src/lab/protocol.ts for why a worker); it loads no tfjs.
/// <reference lib="webworker" />
import type { ProfileWorkerRequest, ProfileWorkerResponse } from '../lab/protocol';
import { planFit } from '../lab/planner';
import { profileMethods } from '../lab/profileMethods';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (message: ProfileWorkerResponse) => scope.postMessage(message);

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

scope.onmessage = (event: MessageEvent<ProfileWorkerRequest>) => {
  const message = event.data;
  const { requestId } = message;
  if (message.type === 'fit') {
    try {
      post({ type: 'fit_result', requestId, plan: planFit(message.config, message.budgetBytes) });
    } catch (error) {
      post({ type: 'fit_error', requestId, message: messageOf(error) });
    }
    return;
  }
  try {
    post({ type: 'profile_result', requestId, ...profileMethods(message.request) });
  } catch (error) {
    post({ type: 'profile_error', requestId, message: messageOf(error) });
  }
};
