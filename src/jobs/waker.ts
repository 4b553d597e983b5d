import type { ControlChannel } from '../redis/controlChannel.js';

/** Tells workers that work appeared: this process's at once, the others' over the control channel. */
export interface Waker {
  wake(): void;
}

/**
 * Local wake-ups are immediate; the broadcast is coalesced to at most one message per `windowMs`, so a
 * burst of submits or finished jobs costs the cluster one message, not one per job.
 */
export function createWaker(options: {
  local: () => void;
  control: ControlChannel;
  windowMs?: number;
  onError: (error: unknown) => void;
}): Waker {
  const windowMs = options.windowMs ?? 10;
  let pending = false;
  return {
    wake() {
      options.local();
      if (pending) return;
      pending = true;
      setTimeout(() => {
        pending = false;
        options.control.publish({ type: 'wake' }).catch(options.onError);
      }, windowMs).unref();
    },
  };
}
