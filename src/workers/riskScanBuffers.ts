/**
 * The typed arrays a risk scan evaluates, laid out in one SharedArrayBuffer that the main thread fills
 * and the scan workers read and write in place: posting a SharedArrayBuffer shares it, so nothing is
 * copied or transferred per task (copying measured slower than using no workers at all).
 *
 * Both sides build the same views from the buffer and its capacity with `viewScanBuffer`. Float64
 * sections come first so that every section is aligned to its element size.
 */

export interface ScanCapacity {
  users: number;
  projects: number;
}

export interface UserScanViews {
  /** Tokens used today. */
  used: Float64Array;
  /** Daily budget; -1 unlimited. */
  budget: Float64Array;
  /** 1 when today's usage risk was already emitted for the user. */
  emitted: Uint8Array;
  /** Output: indices of users newly over the threshold, written from each task's `start`. */
  hits: Int32Array;
}

export interface ProjectScanViews {
  /** Epoch ms of the last decision; NaN when none. */
  decisionAt: Float64Array;
  activityAt: Float64Array;
  failures: Int32Array;
  /** PROJECT_RULE_BITS already emitted and not cleared since. */
  emitted: Uint8Array;
  /** Output: PROJECT_RULE_BITS that hold now. */
  current: Uint8Array;
  /** Output: indices whose `current` differs from `emitted`, written from each task's `start`. */
  changed: Int32Array;
}

export interface ScanViews {
  users: UserScanViews;
  projects: ProjectScanViews;
}

/** Bytes needed for a capacity. */
export function scanBufferBytes(capacity: ScanCapacity): number {
  const { users: u, projects: p } = capacity;
  return 8 * (2 * u + 2 * p) + 4 * (u + 2 * p) + (u + 2 * p);
}

export function viewScanBuffer(buffer: SharedArrayBuffer, capacity: ScanCapacity): ScanViews {
  const { users: u, projects: p } = capacity;
  if (buffer.byteLength < scanBufferBytes(capacity)) throw new RangeError('scan buffer smaller than its capacity');
  let offset = 0;
  const f64 = (n: number) => {
    const view = new Float64Array(buffer, offset, n);
    offset += 8 * n;
    return view;
  };
  const i32 = (n: number) => {
    const view = new Int32Array(buffer, offset, n);
    offset += 4 * n;
    return view;
  };
  const u8 = (n: number) => {
    const view = new Uint8Array(buffer, offset, n);
    offset += n;
    return view;
  };
  const used = f64(u);
  const budget = f64(u);
  const decisionAt = f64(p);
  const activityAt = f64(p);
  const hits = i32(u);
  const failures = i32(p);
  const changed = i32(p);
  const emittedUsers = u8(u);
  const emittedProjects = u8(p);
  const current = u8(p);
  return {
    users: { used, budget, emitted: emittedUsers, hits },
    projects: { decisionAt, activityAt, failures, emitted: emittedProjects, current, changed },
  };
}

/** A shared buffer that grows (to the next power of two) when a scan needs more; reused between scans. */
export class ScanBuffer {
  private shared: SharedArrayBuffer | null = null;
  private cap: ScanCapacity = { users: 0, projects: 0 };
  private cached: ScanViews | null = null;

  /** Views with room for at least `need`; the contents are undefined until filled. */
  ensure(need: ScanCapacity): { buffer: SharedArrayBuffer; capacity: ScanCapacity; views: ScanViews } {
    if (!this.shared || !this.cached || need.users > this.cap.users || need.projects > this.cap.projects) {
      this.cap = { users: roomFor(need.users, this.cap.users), projects: roomFor(need.projects, this.cap.projects) };
      this.shared = new SharedArrayBuffer(scanBufferBytes(this.cap));
      this.cached = viewScanBuffer(this.shared, this.cap);
    }
    return { buffer: this.shared, capacity: this.cap, views: this.cached };
  }
}

function roomFor(need: number, have: number): number {
  if (need <= have) return have;
  return 2 ** Math.ceil(Math.log2(Math.max(need, 1024)));
}
