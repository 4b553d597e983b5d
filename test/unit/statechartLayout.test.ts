import { describe, expect, it } from 'vitest';
import { jobLifecycleMachine } from '../../actors/jobLifecycle.machine.js';
import { ALLOWED_TRANSITIONS, JOB_STATUSES } from '../../actors/jobTransitions.js';
import { machineGraph } from '../../src/inspector/machineGraph.js';
import { layoutStatechart, type PlacedState } from '../../src/inspector/statechartLayout.js';

const graph = machineGraph(jobLifecycleMachine);
const layout = layoutStatechart(graph);
const byId = new Map(layout.states.map((s) => [s.id, s]));

const overlaps = (a: PlacedState, b: PlacedState) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

describe('machineGraph', () => {
  it('reads every status and every allowed move from the machine definition', () => {
    expect(graph.states.filter((s) => s.parent === 'job').map((s) => s.key)).toEqual([...JOB_STATUSES]);
    const moves = new Set(graph.transitions.map((t) => `${t.source.split('.')[1]}>${t.target.split('.')[1]}`));
    for (const [from, tos] of Object.entries(ALLOWED_TRANSITIONS)) {
      for (const to of tos) expect(moves.has(`${from}>${to}`), `${from} → ${to}`).toBe(true);
    }
    expect(graph.transitions.filter((t) => t.guard !== null).map((t) => t.guard)).toEqual(['retry', 'await_confirmation', 'cap']);
  });
});

describe('layoutStatechart', () => {
  it('places every state inside the chart, children inside their parent, no two siblings overlapping', () => {
    for (const state of layout.states) {
      expect(state.width).toBeGreaterThan(0);
      expect(state.x).toBeGreaterThanOrEqual(0);
      expect(state.y).toBeGreaterThanOrEqual(0);
      expect(state.x + state.width).toBeLessThanOrEqual(layout.width);
      expect(state.y + state.height).toBeLessThanOrEqual(layout.height);
      const parent = state.parent === null ? undefined : byId.get(state.parent);
      if (parent) {
        expect(state.x).toBeGreaterThan(parent.x);
        expect(state.y).toBeGreaterThan(parent.y);
        expect(state.x + state.width).toBeLessThan(parent.x + parent.width);
        expect(state.y + state.height).toBeLessThan(parent.y + parent.height);
      }
    }
    for (const a of layout.states) {
      for (const b of layout.states) if (a.id < b.id && a.parent === b.parent) expect(overlaps(a, b), `${a.id} / ${b.id}`).toBe(false);
    }
  });

  it('draws the happy path as one column, failed as the sink, and every transition on exactly one arrow', () => {
    const column = ['queued', 'starting', 'scaffold', 'code', 'deps', 'checks', 'ready'].map((k) => byId.get(`job.${k}`));
    const centres = column.map((s) => (s ? s.x + s.width / 2 : Number.NaN));
    expect(new Set(centres).size).toBe(1);
    for (let i = 1; i < column.length; i++) expect(column[i]?.y).toBeGreaterThan(column[i - 1]?.y ?? Infinity);
    expect(byId.get('job.failed')?.role).toBe('sink');
    const drawn = layout.edges.flatMap((e) => e.transitions);
    expect(drawn).toHaveLength(graph.transitions.length);
    expect(new Set(drawn)).toEqual(new Set(graph.transitions));
    expect(layout.edges.find((e) => e.transitions.some((t) => t.guard === 'retry'))?.kind).toBe('back');
  });
});
