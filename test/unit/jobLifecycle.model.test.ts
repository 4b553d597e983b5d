import { getSimplePaths, toDirectedGraph, type DirectedGraphNode } from '@xstate/graph';
import { describe, expect, it } from 'vitest';
import { ITERATION_CAP_MESSAGE, jobLifecycleMachine, jobStatusOf } from '../../actors/jobLifecycle.machine.js';
import { ALLOWED_TRANSITIONS, JOB_STATUSES, isAllowedTransition, isJobStatus, type JobStatus } from '../../actors/jobTransitions.js';
import { sendJobEvent } from '../../actors/sendJobEvent.js';
import { DEFAULT_TIERS, TIER_NAMES } from '../../src/domain/tiers.js';
import { EVENT_CATALOGUE, forkJob, isRecordAllowed, startJob } from '../helpers/jobHarness.js';

const ALLOWED_PAIRS = JOB_STATUSES.flatMap((from) => ALLOWED_TRANSITIONS[from].map((to) => `${from}→${to}`));

/** Top-level status of a state node id such as `job.checks.running`. */
function statusOfNodeId(id: string): JobStatus {
  const status = id.split('.')[1] ?? '';
  if (!isJobStatus(status)) throw new Error(`state node ${id} is not under a status`);
  return status;
}

function edgesOf(node: DirectedGraphNode): { source: string; target: string }[] {
  return [...node.edges.map((e) => ({ source: e.source.id, target: e.target.id })), ...node.children.flatMap(edgesOf)];
}

describe('jobLifecycle model: the graph', () => {
  it('every edge between statuses is a table row; the only edge inside a status is the confirmation pause', () => {
    const edges = edgesOf(toDirectedGraph(jobLifecycleMachine));
    for (const { source, target } of edges) {
      const from = statusOfNodeId(source);
      const to = statusOfNodeId(target);
      if (from === to) expect({ source, target }).toEqual({ source: 'job.checks.running', target: 'job.checks.awaitingConfirmation' });
      else expect(isAllowedTransition(from, to), `${source} → ${target}`).toBe(true);
    }
  });
});

describe.each(TIER_NAMES)('jobLifecycle model: every simple path (%s)', (tier) => {
  const iterationDepth = DEFAULT_TIERS[tier].iterationDepth;
  const paths = getSimplePaths(jobLifecycleMachine, { input: { jobId: 'job-1', iterationDepth }, events: EVENT_CATALOGUE });

  it('replays on a live actor: each step accepted, recorded once, as an allowed pair, matching the model', () => {
    const covered = new Set<string>();
    for (const path of paths) {
      const { actor, records } = startJob(iterationDepth);
      for (const step of path.steps) {
        // The first step is the graph's own start (`xstate.init`), typed as if it were a job event.
        const type: string = step.event.type;
        if (type === 'xstate.init') continue;
        const from = jobStatusOf(actor.getSnapshot());
        const before = records.length;
        const result = sendJobEvent(actor, step.event);
        expect(result.accepted).toBe(true);
        const recorded = records.slice(before);
        expect(recorded).toHaveLength(1);
        const [record] = recorded;
        if (record === undefined) continue;
        expect(isRecordAllowed(record), `${record.from} → ${record.to}`).toBe(true);
        expect(record.from).toBe(from);
        expect(record.to).toBe(jobStatusOf(step.state));
        expect(actor.getSnapshot().value).toEqual(step.state.value);
        expect(actor.getSnapshot().context).toEqual(step.state.context);
        if (record.from !== record.to) covered.add(`${record.from}→${record.to}`);
      }
      // Every reachable state ends some simple path; trying each event there covers every edge, even
      // those that close a cycle (scheduled → queued), which no simple path takes.
      for (const event of EVENT_CATALOGUE) {
        const fork = forkJob(actor);
        const before = fork.actor.getPersistedSnapshot();
        const result = sendJobEvent(fork.actor, event);
        if (!result.accepted) {
          expect(fork.records).toEqual([]);
          expect(fork.actor.getPersistedSnapshot()).toEqual(before);
          continue;
        }
        expect(fork.records).toHaveLength(1);
        for (const r of fork.records) {
          expect(isRecordAllowed(r), `${r.from} → ${r.to}`).toBe(true);
          if (r.from !== r.to) covered.add(`${r.from}→${r.to}`);
        }
      }
    }
    expect([...covered].sort()).toEqual([...ALLOWED_PAIRS].sort());
  });

  it('reaches ready, a step failure, and the hard cap', () => {
    const ends = paths.map((p) => p.state);
    expect(ends.some((s) => jobStatusOf(s) === 'ready')).toBe(true);
    expect(ends.some((s) => s.context.error === 'step broke')).toBe(true);
    expect(ends.some((s) => s.context.error === ITERATION_CAP_MESSAGE && s.context.iteration === 3 * iterationDepth)).toBe(true);
  });
});
