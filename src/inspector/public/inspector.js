// Warden actor inspector (SPEC §11): the live actor list, one actor's statechart, timeline and durable
// log. Plain ES modules, no build step, no third-party code, nothing fetched from anywhere but Warden.
import { isAuthError, query, subscribe, token } from './api.js';
import { $, clock, duration, h, shortHost, shortId, statusPill } from './dom.js';
import { buildChart, lastSnapshot, paintChart } from './statechart.js';
import { KINDS, renderTimeline } from './timeline.js';

const STATUSES = ['queued', 'scheduled', 'starting', 'scaffold', 'code', 'deps', 'checks', 'ready', 'failed'];

// ---------------------------------------------------------------------------------------------------
// State

const state = {
  actors: new Map(), // jobId → LiveActor (+ receivedAt)
  hosts: [],
  total: 0,
  selected: null, // jobId
  detail: null, // { history, records: [], live, released }
  chart: null, // statechart from the server
  kinds: new Set(KINDS.map(([k]) => k)),
  closeList: null,
  closeDetail: null,
};

function setConn(which, value) {
  const conn = $('conn');
  conn.dataset[which] = value;
  const list = conn.dataset.list ?? 'idle';
  const detail = conn.dataset.detail ?? 'idle';
  const worst = [list, detail].includes('error') ? 'error' : [list, detail].includes('reconnecting') ? 'reconnecting' : list === 'live' ? 'live' : 'idle';
  conn.dataset.state = worst;
  $('conn-text').textContent = { live: 'live', reconnecting: 'reconnecting…', error: 'disconnected', idle: 'not connected' }[worst];
}

// ---------------------------------------------------------------------------------------------------
// Actor list

let listFrame = 0;
function renderListSoon() {
  if (!listFrame) listFrame = requestAnimationFrame(() => ((listFrame = 0), renderList()));
}

function matchesFilter(a) {
  const text = $('filter').value.trim().toLowerCase();
  const status = $('status-filter').value;
  const host = $('host-filter').value;
  if (status === 'awaiting' ? !a.awaitingConfirmation : status && a.status !== status) return false;
  if (host && a.host !== host) return false;
  if (!text) return true;
  return [a.jobId, a.ownerId, a.projectId, a.host, a.status ?? '', a.state ?? ''].some((v) => v.toLowerCase().includes(text));
}

function ageOf(a) {
  return a.age + (Date.now() - a.receivedAt);
}

function renderList() {
  const rows = [...state.actors.values()].filter(matchesFilter).sort((a, b) => ageOf(b) - ageOf(a));
  const body = $('actor-rows');
  const fresh = new Set(rows.filter((a) => a.flash).map((a) => a.jobId));
  body.replaceChildren(
    ...rows.map((a) => {
      a.flash = false;
      return h(
        'tr',
        {
          class: [a.jobId === state.selected ? 'selected' : '', fresh.has(a.jobId) ? 'flash' : ''].join(' ').trim() || undefined,
          dataset: { jobId: a.jobId },
          'data-testid': 'actor-row',
          title: `${a.jobId}\n${a.message ?? ''}`,
          onclick: () => select(a.jobId),
        },
        h('td', { class: 'id' }, shortId(a.jobId)),
        h('td', {}, statusPill(a.status, a.awaitingConfirmation)),
        h('td', { class: 'num' }, a.iteration ?? '—'),
        h('td', {}, a.ownerId),
        h('td', { class: 'id' }, shortId(a.projectId)),
        h('td', { class: 'num age', dataset: { jobId: a.jobId } }, duration(ageOf(a))),
        h('td', { class: 'host', title: a.host }, shortHost(a.host)),
      );
    }),
  );
  $('list-empty').hidden = rows.length > 0;
  const shown = rows.length;
  const live = state.actors.size;
  $('list-foot').textContent =
    state.total > live ? `${shown} shown · ${live} loaded of ${state.total} live actors (narrow the filter)` : `${shown} of ${live} live actors`;
  const hostCount = state.hosts.length;
  $('summary').replaceChildren(h('b', {}, String(Math.max(live, state.total))), ' live actors on ', h('b', {}, String(hostCount)), hostCount === 1 ? ' host' : ' hosts');
  const hostSelect = $('host-filter');
  const current = hostSelect.value;
  const known = [...new Set([...state.hosts.map((x) => x.host), ...[...state.actors.values()].map((a) => a.host)])].sort();
  if (hostSelect.options.length - 1 !== known.length || known.some((x, i) => hostSelect.options[i + 1]?.value !== x)) {
    hostSelect.replaceChildren(h('option', { value: '' }, 'all hosts'), ...known.map((x) => h('option', { value: x }, shortHost(x))));
    hostSelect.value = known.includes(current) ? current : '';
  }
}

function tickAges() {
  for (const cell of document.querySelectorAll('td.age')) {
    const a = state.actors.get(cell.dataset.jobId);
    if (a) cell.textContent = duration(ageOf(a));
  }
  if (state.detail?.live) {
    const age = document.querySelector('[data-fact="age"]');
    if (age) age.textContent = duration(ageOf(state.detail.live));
  }
}

function onListMessage(msg) {
  const now = Date.now();
  if (msg.type === 'actors') {
    state.actors = new Map(msg.view.actors.map((a) => [a.jobId, { ...a, receivedAt: now }]));
    state.hosts = msg.view.hosts;
    state.total = msg.view.total;
  } else if (msg.type === 'delta') {
    for (const a of msg.upserts) {
      const isNew = !state.actors.has(a.jobId);
      state.actors.set(a.jobId, { ...a, receivedAt: now, flash: true });
      if (isNew) state.total++;
    }
    for (const g of msg.gone) if (state.actors.delete(g.jobId)) state.total = Math.max(0, state.total - 1);
    // The list may hear of the open actor's move first: the detail follows at once (see currentOf).
    if (state.detail && msg.upserts.some((a) => a.jobId === state.selected)) renderDetail(false);
  }
  renderListSoon();
}

/** Hosts whose heartbeat ran out send no "gone": a periodic full read drops their actors. */
async function resyncList() {
  try {
    onListMessage({ type: 'actors', view: await query('inspector.actors', { limit: 2000 }) });
  } catch (err) {
    if (isAuthError(err)) signOut('Your token was refused: sign in again.');
  }
}

// ---------------------------------------------------------------------------------------------------
// One actor

function select(jobId) {
  if (!jobId) return;
  if (state.selected === jobId && state.closeDetail) return;
  state.selected = jobId;
  history.replaceState(null, '', `#job=${encodeURIComponent(jobId)}`);
  state.closeDetail?.();
  state.detail = null;
  $('detail-empty').hidden = true;
  $('detail-body').hidden = false;
  clearDetail(jobId);
  showNotice('Loading…');
  renderList();
  setConn('detail', 'reconnecting');
  state.closeDetail = subscribe('inspector.events', { jobId }, {
    onData: onDetailMessage,
    onState: (v) => setConn('detail', v),
    onError: (err) => {
      setConn('detail', 'idle');
      if (isAuthError(err)) return signOut('Your token was refused: sign in again.');
      // Nothing of the previous job may stay on screen under this id.
      clearDetail(jobId);
      showNotice(err.code === 'NOT_FOUND' ? 'Nothing is known of this job: no stored job, no ring buffer, not live.' : err.message);
    },
  });
}

/** Empties every part of the detail that belongs to a job, and hides the cards until data arrives. */
function clearDetail(jobId) {
  $('d-job').textContent = jobId;
  const pill = $('d-status');
  pill.className = 'pill';
  pill.textContent = '';
  pill.dataset.status = '';
  $('d-await').hidden = true;
  $('d-live').className = 'badge';
  $('d-live').textContent = '';
  $('d-facts').replaceChildren();
  $('d-message').textContent = '';
  $('chart').replaceChildren();
  $('chart-note').textContent = '';
  $('timeline').replaceChildren();
  $('ring-note').textContent = '';
  $('log-rows').replaceChildren();
  $('detail-grid').hidden = true;
  $('log-card').hidden = true;
}

function showNotice(text) {
  $('d-notice').textContent = text;
  $('d-notice').hidden = !text;
}

function closeDetail() {
  state.closeDetail?.();
  state.closeDetail = null;
  state.selected = null;
  state.detail = null;
  setConn('detail', 'idle');
  history.replaceState(null, '', location.pathname);
  $('detail-empty').hidden = false;
  $('detail-body').hidden = true;
  renderList();
}

let refreshTimer = 0;
function onDetailMessage(msg) {
  const now = Date.now();
  if (msg.type === 'history') {
    const h0 = msg.history;
    state.detail = { history: h0, records: [...h0.records], live: h0.live ? { ...h0.live, receivedAt: now } : null, released: null };
    renderDetail(true);
    return;
  }
  const d = state.detail;
  if (!d) return;
  if (msg.type === 'records') {
    d.records.push(...msg.records);
    if (d.records.length > d.history.ringSize) d.records.splice(0, d.records.length - d.history.ringSize);
    renderDetail(false, msg.records);
    // A new snapshot means a new transition in the durable log (written right after the actor moved).
    if (msg.records.some((r) => r.kind === 'snapshot')) refreshSoon();
  } else if (msg.type === 'actor') {
    d.live = { ...msg.actor, receivedAt: now };
    d.released = null;
    renderDetail(false);
  } else if (msg.type === 'gone') {
    d.live = null;
    d.released = msg.gone;
    renderDetail(false);
    refreshSoon();
  }
}

/** After an actor stops or is released, the durable log has the last transition: read it again. */
function refreshSoon() {
  clearTimeout(refreshTimer);
  const jobId = state.selected;
  refreshTimer = setTimeout(async () => {
    if (!jobId || state.selected !== jobId || !state.detail) return;
    try {
      const fresh = await query('inspector.history', { jobId });
      if (state.selected !== jobId || !state.detail) return;
      state.detail.history = fresh;
      if (!state.detail.live && fresh.live) state.detail.live = { ...fresh.live, receivedAt: Date.now() };
      renderDetail(false);
    } catch {
      /* the stream goes on; a later change refreshes again */
    }
  }, 600);
}

/**
 * The actor's present, from the freshest of what the page holds: the detail stream's live actor, the
 * list stream's entry for the same job (the two streams arrive independently), and the newest snapshot
 * in the ring (records can be ahead of the live entry they were read with). Pill, facts and chart all
 * read this one answer, so they never disagree. A job no process hosts answers from PostgreSQL.
 */
function currentOf(d) {
  const job = d.history.job;
  const snap = lastSnapshot(d.records);
  if (!d.live) {
    const status = job?.status ?? snap?.state?.split('.')[0] ?? null;
    return { status, state: snap?.state ?? status, awaiting: job?.awaitingConfirmation ?? false, live: null };
  }
  const listed = state.actors.get(d.history.jobId);
  let live = d.live;
  if (listed && listed.updatedAt > live.updatedAt) live = { ...live, ...listed };
  if (snap?.state && snap.at > live.updatedAt) {
    return { status: snap.state.split('.')[0], state: snap.state, awaiting: snap.state.includes('awaitingConfirmation'), live };
  }
  return { status: live.status ?? live.state?.split('.')[0] ?? null, state: live.state, awaiting: live.awaitingConfirmation, live };
}

function renderDetail(full, added = []) {
  const d = state.detail;
  const job = d.history.job;
  const now = currentOf(d);
  const live = now.live;
  const status = now.status;
  const awaiting = now.awaiting;
  showNotice('');
  $('detail-grid').hidden = false;
  $('log-card').hidden = false;
  const pill = $('d-status');
  pill.className = `pill ${awaiting ? 's-awaiting' : `s-${status ?? 'none'}`}`;
  pill.textContent = status ?? '—';
  pill.dataset.status = status ?? '';
  $('d-await').hidden = !awaiting;
  const liveBadge = $('d-live');
  liveBadge.className = live ? 'badge live' : 'badge';
  liveBadge.textContent = live ? `live on ${shortHost(live.host)}` : d.released ? `released (${d.released.reason})` : d.history.finished ? 'finished' : 'not hosted';
  const facts = [
    ['owner', live?.ownerId ?? job?.ownerId],
    ['project', live?.projectId ?? job?.projectId],
    ['tier', live?.tier ?? job?.tier],
    ['iteration', live?.iteration ?? job?.iteration],
    ['age', live ? duration(ageOf(live)) : job ? duration(Date.now() - Date.parse(job.createdAt)) : undefined],
    ['host', live?.host],
    ['state', now.state ?? undefined],
    ['events', live ? String(live.events) : undefined],
    ['seq', job?.seq],
  ].filter(([, v]) => v !== undefined && v !== null);
  $('d-facts').replaceChildren(...facts.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', { title: String(v), 'data-fact': k }, String(v)))));
  $('d-message').textContent = live?.message ?? job?.error ?? job?.goal ?? '';
  if (state.chart) {
    if (full || !$('chart').firstChild) buildChart($('chart'), state.chart);
    const currentPath = now.state ?? job?.status ?? null;
    paintChart($('chart'), state.chart, { records: d.records, transitions: d.history.transitions, currentPath, live: live !== null });
    $('chart-note').textContent = currentPath ? `in ${currentPath}` : '';
  }
  renderRecords(full ? [] : added);
  renderLog();
  renderList();
}

function renderRecords(added) {
  const d = state.detail;
  renderTimeline($('timeline'), d.records, { kinds: state.kinds, added, root: state.chart?.graph.root });
  const dropped = d.records.length >= d.history.ringSize ? ` · oldest dropped (ring of ${d.history.ringSize})` : '';
  $('ring-note').textContent = `${d.records.length} records${dropped}`;
}

function renderLog() {
  const rows = state.detail.history.transitions;
  $('log-rows').replaceChildren(
    ...rows.map((t) =>
      h(
        'tr',
        {},
        h('td', { class: 'num' }, t.seq),
        h('td', { class: 'mono' }, `${t.fromStatus ?? '∅'} → ${t.toStatus}`),
        h('td', { class: 'num' }, t.iteration),
        h('td', { title: t.message }, t.message),
        h('td', { class: 'mono', title: t.at }, clock(Date.parse(t.at))),
      ),
    ),
  );
  $('log-empty').hidden = rows.length > 0;
  $('log-empty').textContent = state.detail.history.job ? 'No transitions stored yet.' : 'No stored job with this id (only what the inspector saw).';
}

// ---------------------------------------------------------------------------------------------------
// Sign in, start

function signOut(reason) {
  token.clear();
  state.closeList?.();
  state.closeList = null;
  state.closeDetail?.();
  state.closeDetail = null;
  setConn('list', 'idle');
  setConn('detail', 'idle');
  $('sign-out').hidden = true;
  askToken(reason ?? '');
}

function askToken(error) {
  $('login-error').textContent = error;
  $('token-input').value = '';
  const dialog = $('login');
  if (!dialog.open) dialog.showModal();
  $('token-input').focus();
}

async function start() {
  try {
    state.chart = await query('inspector.statechart');
  } catch (err) {
    if (isAuthError(err)) return signOut(err.code === 'FORBIDDEN' ? 'This token is not an admin token.' : 'This token was refused.');
    return askToken(`Could not reach Warden: ${err.message}`);
  }
  $('sign-out').hidden = false;
  setConn('list', 'reconnecting');
  state.closeList = subscribe('inspector.events', undefined, {
    onData: onListMessage,
    onState: (v) => setConn('list', v),
    onError: (err) => (isAuthError(err) ? signOut('Your token was refused: sign in again.') : setConn('list', 'error')),
  });
  const fromHash = new URLSearchParams(location.hash.slice(1)).get('job');
  if (fromHash) select(fromHash);
}

function init() {
  $('status-filter').append(...STATUSES.map((st) => h('option', { value: st }, st)), h('option', { value: 'awaiting' }, 'awaiting confirmation'));
  $('kinds').replaceChildren(
    ...KINDS.map(([kind, label]) =>
      h(
        'label',
        { title: kind },
        h('input', {
          type: 'checkbox',
          checked: true,
          onchange: (e) => {
            if (e.target.checked) state.kinds.add(kind);
            else state.kinds.delete(kind);
            if (state.detail) renderRecords([]);
          },
        }),
        label,
      ),
    ),
  );
  for (const id of ['filter', 'status-filter', 'host-filter']) $(id).addEventListener('input', renderListSoon);
  $('open-job').addEventListener('submit', (e) => {
    e.preventDefault();
    const id = $('open-job-id').value.trim();
    if (id) select(id);
  });
  $('d-close').addEventListener('click', closeDetail);
  $('sign-out').addEventListener('click', () => signOut(''));
  $('login-form').addEventListener('submit', (e) => {
    const value = $('token-input').value.trim();
    if (!value) {
      e.preventDefault();
      return;
    }
    token.set(value);
    $('login').close();
    void start();
  });
  $('login').addEventListener('cancel', (e) => e.preventDefault());
  document.addEventListener('keydown', (e) => {
    if (e.key === '/' && document.activeElement?.tagName !== 'INPUT') {
      e.preventDefault();
      $('filter').focus();
    } else if (e.key === 'Escape' && state.selected && !$('login').open) closeDetail();
  });
  setInterval(tickAges, 1000);
  setInterval(() => state.closeList && resyncList(), 15_000);
  if (token.get()) void start();
  else askToken('');
}

init();
