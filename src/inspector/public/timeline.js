// The event and snapshot history of one job, newest first: events with their fields, the transitions
// each took, snapshots with their context diff.
import { clock, h, shortHost, show } from './dom.js';

export const KINDS = [
  ['event', 'EVT'],
  ['snapshot', 'SNAP'],
  ['microstep', 'STEP'],
  ['actor', 'ACTOR'],
];

/** Renders `records` (oldest first) of the kinds in `kinds` into `list`; `added` ones flash. */
export function renderTimeline(list, records, { kinds, added = [], root }) {
  const fresh = new Set(added.map((r) => r.id));
  const kept = records.filter((r) => kinds.has(r.kind));
  const items = kept.map((r, i) => timelineItem(r, { isNew: fresh.has(r.id), showHost: i === 0 || kept[i - 1].host !== r.host, root }));
  list.replaceChildren(...items.reverse());
  if (kept.length === 0) list.append(h('li', { class: 'muted' }, records.length === 0 ? 'No inspection records (the ring expired, or the job never ran here).' : 'Nothing of the selected kinds.'));
}

function timelineItem(r, { isNew, showHost, root }) {
  const label = KINDS.find(([k]) => k === r.kind)?.[1] ?? r.kind;
  const what = h('div', { class: 'what' });
  if (r.kind === 'event') {
    what.append(h('span', { class: 'ev' }, r.event));
    if (r.payload && Object.keys(r.payload).length > 0) {
      what.append(h('span', { class: 'payload' }, Object.entries(r.payload).map(([k, v]) => `${k}=${show(v)}`).join(' ')));
    }
  } else if (r.kind === 'microstep') {
    const local = (id) => (root && id.startsWith(`${root}.`) ? id.slice(root.length + 1) : id);
    what.append(h('span', { class: 'ev' }, r.event), ' ', ...r.transitions.map((t) => h('span', { class: 'state' }, `${local(t.source)} → ${t.targets.map(local).join(', ')}`)));
  } else if (r.kind === 'snapshot') {
    what.append(h('span', { class: 'state' }, r.state), r.status !== 'active' ? h('span', { class: 'payload' }, `(${r.status})`) : '', h('span', { class: 'payload' }, `after ${r.event}`));
    const changes = r.diff ? Object.entries(r.diff).map(([k, c]) => [k, c.from, c.to]) : r.context ? Object.entries(r.context).map(([k, v]) => [k, undefined, v]) : [];
    if (changes.length > 0) {
      what.append(
        h('div', { class: 'diff' }, ...changes.map(([k, from, to]) => h('span', {}, h('span', { class: 'key' }, `${k}: `), from !== undefined ? h('span', { class: 'from' }, show(from)) : '', from !== undefined ? ' → ' : '', h('span', { class: 'to' }, show(to))))),
      );
    }
  } else {
    what.append(h('span', { class: 'ev' }, 'actor created'));
  }
  // The session tells actor instances apart; the host is shown where it changes (another process took over).
  what.append(h('span', { class: 'src', title: `${r.host} · actor session ${r.session}` }, showHost ? `${shortHost(r.host)} · ${r.session}` : r.session));
  return h('li', { class: isNew ? 'new' : undefined, 'data-kind': r.kind }, h('span', { class: 't', title: new Date(r.at).toISOString() }, clock(r.at)), h('span', { class: `k ${r.kind}` }, label), what);
}
