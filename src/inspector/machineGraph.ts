import type { AnyStateMachine } from 'xstate';

type StateNodeType = 'atomic' | 'compound' | 'parallel' | 'final' | 'history';

/** A state of the machine, by its XState id (`job.checks.running`). */
export interface GraphState {
  id: string;
  key: string;
  parent: string | null;
  type: StateNodeType;
  /** The initial child of a compound state. */
  initial: string | null;
  /** Child ids in definition order. */
  children: string[];
}

/** One transition of the definition; several (guarded) ones may share an event. */
export interface GraphTransition {
  source: string;
  target: string;
  event: string;
  /** The guard, shown as `[retry]` (its `decision` param) or `[guardName]`. */
  guard: string | null;
}

/** The machine as data: what the statechart is drawn from (the definition, never a hand-made copy). */
export interface MachineGraph {
  machineId: string;
  root: string;
  states: GraphState[];
  transitions: GraphTransition[];
}

interface NodeLike {
  id: string;
  key: string;
  type: StateNodeType;
  parent?: NodeLike | undefined;
  states: Record<string, NodeLike>;
  initial?: { target: readonly NodeLike[] } | undefined;
  transitions: Map<string, readonly TransitionLike[]>;
}

interface TransitionLike {
  eventType: string;
  target?: readonly NodeLike[] | undefined;
  guard?: unknown;
}

/** Reads states and transitions from `machine.root`, depth first in definition order. */
export function machineGraph(machine: AnyStateMachine): MachineGraph {
  const states: GraphState[] = [];
  const transitions: GraphTransition[] = [];
  const visit = (node: NodeLike, parent: string | null) => {
    const children = Object.values(node.states);
    states.push({
      id: node.id,
      key: node.key,
      parent,
      type: node.type,
      initial: node.type === 'compound' ? (node.initial?.target[0]?.id ?? null) : null,
      children: children.map((child) => child.id),
    });
    for (const list of node.transitions.values()) {
      for (const t of list) {
        // A targetless transition changes no state; the job machine has none, a chart has nothing to draw.
        for (const target of t.target ?? []) {
          transitions.push({ source: node.id, target: target.id, event: t.eventType, guard: guardLabel(t.guard) });
        }
      }
    }
    for (const child of children) visit(child, node.id);
  };
  const root = machine.root as unknown as NodeLike;
  visit(root, null);
  return { machineId: machine.id, root: root.id, states, transitions };
}

function guardLabel(guard: unknown): string | null {
  if (guard === undefined || guard === null) return null;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') return guard.name || 'guard';
  if (typeof guard === 'object' && 'type' in guard) {
    const params = 'params' in guard ? guard.params : undefined;
    // The job machine's guards differ only by their `decision` param: that is the useful label.
    if (typeof params === 'object' && params !== null && 'decision' in params && typeof params.decision === 'string') return params.decision;
    return typeof guard.type === 'string' ? guard.type : 'guard';
  }
  return 'guard';
}
