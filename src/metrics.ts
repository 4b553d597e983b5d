import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { JOB_STATUSES, type JobStatus } from '../actors/jobTransitions.js';

/** Reads how many jobs are in each status (for the gauge); supplied by the job runtime. */
export type JobsByStatusSource = () => Promise<Partial<Record<JobStatus, number>>>;
/** Reads the queue length (for the gauge); supplied by the job runtime. */
export type QueueLengthSource = () => Promise<number>;

/**
 * Warden's Prometheus metrics on a registry of its own (not prom-client's global one), so that several
 * apps in one test process do not collide. Counters are incremented where things happen; gauges that
 * describe shared state (jobs by status, queue length) are read from a source at scrape time, so a
 * scrape of any process reports the cluster's numbers.
 */
export interface WardenMetrics {
  registry: Registry;
  /** Accepted job transitions, by from/to status. The runtime increments it. */
  transitions: Counter<'from' | 'to'>;
  /** Requests refused with a WardenError (QUEUE_FULL, TOKEN_BUDGET, NOT_FOUND …), by code. */
  refusals: Counter<'code'>;
  setJobsByStatusSource(source: JobsByStatusSource): void;
  setQueueLengthSource(source: QueueLengthSource): void;
  /** The Prometheus text exposition. */
  render(): Promise<string>;
  readonly contentType: string;
}

export interface MetricsOptions {
  /** Called when a gauge's source fails: the scrape still answers, without that gauge's values. */
  onSourceError?: (gauge: string, err: unknown) => void;
}

export function createMetrics(options: MetricsOptions = {}): WardenMetrics {
  const registry = new Registry();
  // Includes nodejs_eventloop_lag_seconds and the p50/p90/p99 lag from perf_hooks' delay monitor.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });

  let jobsByStatus: JobsByStatusSource | undefined;
  let queueLength: QueueLengthSource | undefined;
  const onSourceError = options.onSourceError ?? (() => {});

  new Gauge({
    name: 'warden_jobs',
    help: 'Jobs by status',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      if (!jobsByStatus) return;
      try {
        const counts = await jobsByStatus();
        for (const status of JOB_STATUSES) this.set({ status }, counts[status] ?? 0);
      } catch (err) {
        onSourceError('warden_jobs', err);
      }
    },
  });
  new Gauge({
    name: 'warden_queue_length',
    help: 'Jobs waiting in the queue',
    registers: [registry],
    async collect() {
      if (!queueLength) return;
      try {
        this.set(await queueLength());
      } catch (err) {
        onSourceError('warden_queue_length', err);
      }
    },
  });

  return {
    registry,
    transitions: new Counter({
      name: 'warden_job_transitions_total',
      help: 'Accepted job transitions',
      labelNames: ['from', 'to'],
      registers: [registry],
    }),
    refusals: new Counter({
      name: 'warden_refusals_total',
      help: 'Requests refused with a Warden error code',
      labelNames: ['code'],
      registers: [registry],
    }),
    setJobsByStatusSource(source) {
      jobsByStatus = source;
    },
    setQueueLengthSource(source) {
      queueLength = source;
    },
    render: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
