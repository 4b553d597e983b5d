/** The default number of records kept per job. */
export const DEFAULT_RING_SIZE = 200;

/**
 * A fixed-capacity ring buffer: pushing past capacity overwrites the oldest entry, so memory stays
 * bounded however long an actor lives. The slots array grows up to capacity and is never reallocated
 * after that.
 */
export class InspectionRing<T> {
  readonly capacity: number;
  private readonly slots: T[] = [];
  /** Index of the oldest entry once the ring is full. */
  private head = 0;
  private overwritten = 0;

  constructor(capacity: number = DEFAULT_RING_SIZE) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
  }

  /** Entries held now (at most capacity). */
  get size(): number {
    return this.slots.length;
  }

  /** Entries pushed out by newer ones since the ring was made. */
  get dropped(): number {
    return this.overwritten;
  }

  push(...items: T[]): void {
    for (const item of items) {
      if (this.slots.length < this.capacity) {
        this.slots.push(item);
        continue;
      }
      this.slots[this.head] = item;
      this.head = (this.head + 1) % this.capacity;
      this.overwritten++;
    }
  }

  /** Oldest first. */
  toArray(): T[] {
    return this.head === 0 ? [...this.slots] : [...this.slots.slice(this.head), ...this.slots.slice(0, this.head)];
  }

  clear(): void {
    this.slots.length = 0;
    this.head = 0;
  }
}
