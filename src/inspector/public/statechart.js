// The statechart: drawn once from the layout the server computes from the machine definition, then
// repainted (classes only) as records arrive.
import { s } from './dom.js';

/** Draws the chart from the server's layout (machine definition → inspector.statechart) into `container`. */
export function buildChart(container, chart) {
  const { layout } = chart;
  const svg = s('svg', { viewBox: `0 0 ${layout.width} ${layout.height}`, role: 'img', 'aria-label': `Statechart of ${layout.machineId}` });
  const defs = s('defs');
  for (const id of ['arrow', 'arrow-taken']) {
    defs.append(s('marker', { id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, s('path', { d: 'M0 0L10 5L0 10z' })));
  }
  svg.append(defs);
  const states = s('g');
  const byDepth = [...layout.states].sort((a, b) => depth(a.id) - depth(b.id));
  for (const st of byDepth) {
    const g = s('g', { class: `st ${st.role}${st.type === 'final' && st.role !== 'sink' ? ' final-ok' : ''}`, 'data-state-id': st.id, 'data-testid': 'state-node' });
    g.append(s('rect', { x: st.x, y: st.y, width: st.width, height: st.height, rx: st.role === 'sink' ? 5 : 7 }));
    // A final state gets a double border, as statecharts draw one.
    if (st.type === 'final' && st.role !== 'sink') g.append(s('rect', { class: 'inner', x: st.x + 3, y: st.y + 3, width: st.width - 6, height: st.height - 6, rx: 5 }));
    if (st.role === 'compound') g.append(s('text', { x: st.x + 8, y: st.y + 15 }, st.key));
    else if (st.role === 'sink') {
      const cx = st.x + st.width / 2;
      const cy = st.y + st.height / 2;
      g.append(s('text', { x: cx, y: cy, 'text-anchor': 'middle', 'dominant-baseline': 'central', transform: `rotate(90 ${cx} ${cy})` }, st.key));
    } else g.append(s('text', { x: st.x + st.width / 2, y: st.y + st.height / 2, 'text-anchor': 'middle', 'dominant-baseline': 'central' }, st.key));
    states.append(g);
  }
  svg.append(states);
  const edges = s('g');
  for (const e of layout.edges) {
    const g = s('g', { class: `edge ${e.kind}`, 'data-edge-id': e.id });
    g.append(s('path', { d: e.path, 'marker-end': 'url(#arrow)' }));
    e.label.lines.forEach((line, i) => g.append(s('text', { x: e.label.x, y: e.label.y + i * 11, 'text-anchor': e.label.anchor }, line)));
    g.append(s('title', {}, e.transitions.map((t) => `${t.source} → ${t.target} on ${t.event}${t.guard ? ` [${t.guard}]` : ''}`).join('\n')));
    edges.append(g);
  }
  svg.append(edges);
  if (layout.initial) {
    const { x, y1, y2 } = layout.initial;
    svg.append(s('circle', { class: 'init', cx: x, cy: y1, r: 4 }), s('path', { class: 'init-line', d: `M ${x} ${y1} L ${x} ${y2 - 1}`, 'marker-end': 'url(#arrow)' }));
  }
  container.replaceChildren(svg);
}

const depth = (id) => id.split('.').length;

/** The ids of a state path and its ancestors: "checks.running" → job.checks, job.checks.running. */
function pathIds(root, path) {
  if (!path) return [];
  const parts = path.split('.');
  return parts.map((_, i) => `${root}.${parts.slice(0, i + 1).join('.')}`);
}

/**
 * Lights the current state and marks what the job went through: states seen in snapshots, transitions
 * taken by microsteps (or, once the ring is gone, by the durable log, status to status). The last
 * transition taken is animated while the actor is live.
 */
export function paintChart(container, chart, { records, transitions, currentPath, live }) {
  const root = chart.graph.root;
  const current = new Set(pathIds(root, currentPath));
  const visited = new Set();
  const taken = new Map(); // edge id → order
  const edges = chart.layout.edges;
  let order = 0;
  const mark = (source, target) => {
    for (const e of edges) if (e.transitions.some((t) => t.source === source && t.target === target)) taken.set(e.id, ++order);
  };
  const micro = records.filter((r) => r.kind === 'microstep');
  for (const r of records) if (r.kind === 'snapshot') pathIds(root, r.state).forEach((id) => visited.add(id));
  for (const r of micro) for (const t of r.transitions) for (const target of t.targets) mark(t.source, target);
  if (micro.length === 0) {
    // The ring is gone (finished long ago): mark what the durable log says, status to status.
    const top = (status) => `${root}.${status}`;
    for (const t of transitions) {
      visited.add(top(t.toStatus));
      if (!t.fromStatus) continue;
      for (const e of edges) {
        if (e.transitions.some((x) => (x.source === top(t.fromStatus) || x.source.startsWith(`${top(t.fromStatus)}.`)) && (x.target === top(t.toStatus) || x.target.startsWith(`${top(t.toStatus)}.`)))) {
          taken.set(e.id, ++order);
        }
      }
    }
  }
  const last = [...taken.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  for (const g of container.querySelectorAll('.st')) {
    const id = g.getAttribute('data-state-id');
    g.classList.toggle('current', current.has(id));
    g.classList.toggle('visited', visited.has(id) && !current.has(id));
  }
  for (const g of container.querySelectorAll('.edge')) {
    const id = g.getAttribute('data-edge-id');
    g.classList.toggle('taken', taken.has(id));
    g.classList.toggle('last', id === last && live);
    g.querySelector('path').setAttribute('marker-end', taken.has(id) ? 'url(#arrow-taken)' : 'url(#arrow)');
  }
}

/** The newest snapshot record, or null. */
export function lastSnapshot(records) {
  for (let i = records.length - 1; i >= 0; i--) if (records[i].kind === 'snapshot') return records[i];
  return null;
}
