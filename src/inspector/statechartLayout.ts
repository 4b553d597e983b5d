import type { GraphState, GraphTransition, MachineGraph } from './machineGraph.js';

/** A state with its box, in SVG user units. */
export interface PlacedState extends GraphState {
  x: number;
  y: number;
  width: number;
  height: number;
  /** `sink`: a final state most states can fail into, drawn as a bar under the whole chart. */
  role: 'state' | 'compound' | 'sink';
}

/** One drawn arrow: every transition with the same source and target (sinks: the same top-level source). */
export interface PlacedEdge {
  id: string;
  /** What it draws, for marking the ones a job took. */
  transitions: GraphTransition[];
  kind: 'forward' | 'back' | 'internal' | 'sink' | 'self';
  /** SVG path data. */
  path: string;
  label: { x: number; y: number; anchor: 'start' | 'middle' | 'end'; lines: string[] };
}

export interface StatechartLayout {
  machineId: string;
  width: number;
  height: number;
  states: PlacedState[];
  edges: PlacedEdge[];
  /** The initial marker: a dot at (x, y1) with an arrow down into the initial state at (x, y2). */
  initial: { x: number; y1: number; y2: number } | null;
}

const NODE_W = 150;
const NODE_H = 34;
const ROW_GAP = 46;
const SIDE_COL_W = 190;
const PAD = 10;
const HEADER = 22;
const CHILD_GAP = 30;
const MARGIN = 24;
/** Room left of the main column for the arcs of back edges and their labels. */
const ARC_ROOM = 70;
/** Room between the main column and the sink bar, for the labels of the edges into it. */
const SINK_GAP = 190;
const SINK_W = 30;

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Lays the statechart out top to bottom: rows by longest path from the initial state (back edges — the
 * retry loop, a release — ignored for layering), the longest path itself as one column, other states in
 * columns to its left, and a final state that many states reach (failed) as a bar on the right. Compound
 * states hold their children stacked. Arrows run down; back edges arc on the left. Generic over the
 * graph, tuned for charts the size of the job machine.
 */
export function layoutStatechart(graph: MachineGraph): StatechartLayout {
  const byId = new Map(graph.states.map((s) => [s.id, s]));
  const rootState = byId.get(graph.root);
  if (!rootState) throw new Error('statechart: no root state');
  const tops = rootState.children;
  const topOf = (id: string): string => {
    let state = byId.get(id);
    while (state && state.parent !== null && state.parent !== graph.root) state = byId.get(state.parent);
    return state?.id ?? id;
  };

  // Sinks: top-level final states entered from at least three top-level states.
  const sources = new Map<string, Set<string>>();
  for (const t of graph.transitions) {
    const from = topOf(t.source);
    const to = topOf(t.target);
    if (from !== to) sources.set(to, (sources.get(to) ?? new Set()).add(from));
  }
  const sinks = new Set(tops.filter((id) => byId.get(id)?.type === 'final' && (sources.get(id)?.size ?? 0) >= 3));

  // Lifted adjacency between top-level states, in definition order.
  const next = new Map<string, string[]>(tops.map((id) => [id, []]));
  for (const t of graph.transitions) {
    const from = topOf(t.source);
    const to = topOf(t.target);
    if (from === to || sinks.has(to)) continue;
    const list = next.get(from);
    if (list && !list.includes(to)) list.push(to);
  }

  // Back edges: edges into a state still on the depth-first stack.
  const back = new Set<string>();
  const seen = new Set<string>();
  const onStack = new Set<string>();
  const dfs = (id: string) => {
    seen.add(id);
    onStack.add(id);
    for (const to of next.get(id) ?? []) {
      if (onStack.has(to)) back.add(`${id}>${to}`);
      else if (!seen.has(to)) dfs(to);
    }
    onStack.delete(id);
  };
  const initialTop = rootState.initial ?? tops[0];
  if (initialTop !== undefined) dfs(initialTop);
  for (const id of tops) if (!seen.has(id) && !sinks.has(id)) dfs(id);
  const forward = (from: string) => (next.get(from) ?? []).filter((to) => !back.has(`${from}>${to}`));

  // Longest-path layers, then the longest path from the initial state as the main column.
  const layer = new Map<string, number>(tops.map((id) => [id, 0]));
  for (let round = 0; round < tops.length; round++) {
    for (const from of tops) for (const to of forward(from)) layer.set(to, Math.max(layer.get(to) ?? 0, (layer.get(from) ?? 0) + 1));
  }
  const lengthMemo = new Map<string, number>();
  const pathLength = (id: string): number => {
    const memo = lengthMemo.get(id);
    if (memo !== undefined) return memo;
    const value = Math.max(0, ...forward(id).map((to) => pathLength(to) + 1));
    lengthMemo.set(id, value);
    return value;
  };
  const main = new Set<string>();
  for (let id = initialTop; id !== undefined; ) {
    main.add(id);
    const options: string[] = forward(id).filter((to) => !main.has(to));
    id = options.sort((a, b) => pathLength(b) - pathLength(a))[0];
  }

  // Sizes (compound states hold their children stacked).
  const size = new Map<string, { width: number; height: number }>();
  const measure = (id: string): { width: number; height: number } => {
    const kids = byId.get(id)?.children ?? [];
    const result =
      kids.length === 0
        ? { width: NODE_W, height: NODE_H }
        : kids.map(measure).reduce(
            (acc, kid) => ({ width: Math.max(acc.width, kid.width + 2 * PAD), height: acc.height + kid.height + CHILD_GAP }),
            { width: 0, height: HEADER + PAD - CHILD_GAP },
          );
    size.set(id, result);
    return result;
  };
  for (const id of tops) measure(id);
  const sizeOf = (id: string) => size.get(id) ?? { width: NODE_W, height: NODE_H };

  // Columns: 0 is the main one, side columns to its left per layer.
  const columnOf = new Map<string, number>();
  const used = new Map<number, number>();
  for (const id of tops) {
    if (sinks.has(id)) continue;
    if (main.has(id)) {
      columnOf.set(id, 0);
      continue;
    }
    const l = layer.get(id) ?? 0;
    const column = (used.get(l) ?? 0) + 1;
    used.set(l, column);
    columnOf.set(id, column);
  }
  const sideColumns = Math.max(0, ...columnOf.values());
  const mainWidth = Math.max(NODE_W, ...[...main].map((id) => sizeOf(id).width));
  const mainCx = MARGIN + sideColumns * SIDE_COL_W + ARC_ROOM + mainWidth / 2;

  // Rows: each layer as tall as its tallest state.
  const layers = Math.max(0, ...[...columnOf.keys()].map((id) => layer.get(id) ?? 0)) + 1;
  const rowTop: number[] = [];
  let y = MARGIN + 24;
  for (let l = 0; l < layers; l++) {
    rowTop.push(y);
    const tallest = Math.max(NODE_H, ...[...columnOf.keys()].filter((id) => layer.get(id) === l).map((id) => sizeOf(id).height));
    y += tallest + ROW_GAP;
  }
  const chartBottom = y - ROW_GAP;

  const boxes = new Map<string, Box>();
  const place = (id: string, x: number, top: number) => {
    const { width, height } = sizeOf(id);
    boxes.set(id, { x, y: top, width, height });
    let childTop = top + HEADER;
    for (const kid of byId.get(id)?.children ?? []) {
      place(kid, x + (width - sizeOf(kid).width) / 2, childTop);
      childTop += sizeOf(kid).height + CHILD_GAP;
    }
  };
  for (const [id, column] of columnOf) {
    const { width } = sizeOf(id);
    const cxOf = column === 0 ? mainCx : MARGIN + (sideColumns - column) * SIDE_COL_W + NODE_W / 2;
    place(id, cxOf - width / 2, rowTop[layer.get(id) ?? 0] ?? MARGIN);
  }
  const sinkX = mainCx + mainWidth / 2 + SINK_GAP;
  for (const id of sinks) boxes.set(id, { x: sinkX, y: MARGIN + 24, width: SINK_W, height: chartBottom - MARGIN - 24 });

  const states: PlacedState[] = graph.states
    .filter((s) => s.id !== graph.root)
    .map((s) => ({ ...s, ...(boxes.get(s.id) ?? { x: 0, y: 0, width: 0, height: 0 }), role: sinks.has(s.id) ? 'sink' : s.children.length > 0 ? 'compound' : 'state' }));
  const edges = routeEdges(graph.transitions, { boxes, topOf, sinks, layer, byId, mainCx });
  const initialBox = initialTop === undefined ? undefined : boxes.get(initialTop);
  return {
    machineId: graph.machineId,
    width: (sinks.size > 0 ? sinkX + SINK_W : mainCx + mainWidth / 2 + 120) + MARGIN,
    height: chartBottom + MARGIN,
    states,
    edges,
    initial: initialBox ? { x: cx(initialBox), y1: initialBox.y - 22, y2: initialBox.y } : null,
  };
}

interface RouteContext {
  boxes: Map<string, Box>;
  topOf: (id: string) => string;
  sinks: Set<string>;
  layer: Map<string, number>;
  byId: Map<string, GraphState>;
  mainCx: number;
}

function routeEdges(transitions: GraphTransition[], ctx: RouteContext): PlacedEdge[] {
  const groups = new Map<string, GraphTransition[]>();
  for (const t of transitions) {
    const from = ctx.sinks.has(ctx.topOf(t.target)) ? ctx.topOf(t.source) : t.source;
    const key = `${from}>${t.target}`;
    groups.set(key, [...(groups.get(key) ?? []), t]);
  }
  let arcs = 0;
  const edges: PlacedEdge[] = [];
  for (const [key, group] of groups) {
    const [fromId = '', toId = ''] = key.split('>');
    const from = ctx.boxes.get(fromId);
    const to = ctx.boxes.get(entryOf(toId, ctx.byId));
    if (!from || !to) continue;
    const lines = group.map((t) => (t.guard ? `${t.event} [${t.guard}]` : t.event));
    const edge = (kind: PlacedEdge['kind'], path: string, label: PlacedEdge['label']) => edges.push({ id: key, transitions: group, kind, path, label });
    const fromLayer = ctx.layer.get(ctx.topOf(fromId)) ?? 0;
    const toLayer = ctx.layer.get(ctx.topOf(toId)) ?? 0;

    if (fromId === toId) {
      const r = right(from);
      edge('self', `M ${r} ${from.y + 8} C ${r + 36} ${from.y - 8} ${r + 36} ${bottom(from) + 8} ${r} ${bottom(from) - 8}`, { x: r + 38, y: cy(from) + 4, anchor: 'start', lines });
    } else if (ctx.sinks.has(toId)) {
      // Leaves the state's right side at its first row (a compound's header line), straight to the bar.
      const y = Math.min(cy(from), from.y + NODE_H / 2);
      edge('sink', `M ${right(from)} ${y} L ${to.x} ${y}`, { x: right(from) + 8, y: y - 6 - 12 * (lines.length - 1), anchor: 'start', lines });
    } else if (ctx.topOf(fromId) === ctx.topOf(toId)) {
      edge('internal', `M ${cx(from)} ${bottom(from)} L ${cx(to)} ${to.y}`, { x: cx(from) + 6, y: (bottom(from) + to.y) / 2 + 4, anchor: 'start', lines });
    } else if (toLayer > fromLayer && Math.abs(cx(to) - cx(from)) > 1) {
      // Down into a side column: out of the left side, into the top.
      const y1 = cy(from);
      edge('forward', `M ${from.x} ${y1} C ${cx(to)} ${y1} ${cx(to)} ${y1} ${cx(to)} ${to.y}`, { x: cx(to) + 8, y: y1 - 7, anchor: 'middle', lines });
    } else if (toLayer > fromLayer) {
      // Straight down; out of a nested state the arrow leaves from its top-level box, below its siblings.
      const source = ctx.boxes.get(ctx.topOf(fromId)) ?? from;
      edge('forward', `M ${cx(source)} ${bottom(source)} L ${cx(to)} ${to.y}`, { x: cx(to) + 6, y: (bottom(source) + to.y) / 2 + 4, anchor: 'start', lines });
    } else if (Math.abs(cx(from) - ctx.mainCx) > 1) {
      // From a side column back up into the main one (a release back to the queue).
      const x2 = to.x + to.width * 0.2;
      const y1 = cy(from);
      edge('back', `M ${right(from)} ${y1} C ${x2} ${y1} ${x2} ${y1} ${x2} ${bottom(to)}`, { x: (right(from) + x2) / 2, y: y1 + 14, anchor: 'middle', lines });
    } else {
      // Back up the main column: an arc on the left, one lane further out per arc.
      const x1 = from.x;
      const x2 = to.x;
      const out = Math.min(x1, x2) - 26 - 16 * arcs++;
      const control = out - (Math.min(x1, x2) - out) / 3;
      const y1 = Math.min(cy(from), from.y + NODE_H / 2);
      const y2 = cy(to);
      edge('back', `M ${x1} ${y1} C ${control} ${y1} ${control} ${y2} ${x2} ${y2}`, { x: out - 4, y: (y1 + y2) / 2 + 4, anchor: 'end', lines });
    }
  }
  return edges;
}

/** Where an arrow into a compound state lands: its initial child, all the way down. */
function entryOf(id: string, byId: Map<string, GraphState>): string {
  let state = byId.get(id);
  while (state?.initial) state = byId.get(state.initial);
  return state?.id ?? id;
}

const cx = (b: Box) => b.x + b.width / 2;
const cy = (b: Box) => b.y + b.height / 2;
const right = (b: Box) => b.x + b.width;
const bottom = (b: Box | undefined) => (b ? b.y + b.height : 0);
