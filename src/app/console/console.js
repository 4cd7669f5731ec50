// console.js -- Magnetar's web console (served at / by src/app/console.c).
//
// Plain script, no framework, no build step. It uses ONLY the public APIs, so everything it
// shows can also be scripted: the admin REST API (/admin/v2/..., as Pulsar's PulsarAdmin
// calls it) and the WebSocket producer and reader (/ws/v2/producer|reader/..., as Pulsar's
// WebSocket proxy serves them). With authentication on, the token is kept in sessionStorage
// and sent as "Authorization: Bearer" to REST and as ?token= to WebSockets.
// Data is only ever put into the page as text nodes / textContent (no HTML parsing of data).
'use strict';

const POLL_MS = 2000;
const PEEK_COUNT = 10;
const TAIL_MAX = 100;
const TOKEN_KEY = 'magnetar.token';

const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem(TOKEN_KEY) || '';
let pollTimer = null;
let view = null;            // { kind: 'overview' } or { kind: 'topic', topic: {...} }
let tailSockets = [];

class AuthError extends Error {}

// ---- DOM helpers -------------------------------------------------------------------------
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function table(headers, rows, emptyText) {
  if (!rows.length) return el('p', { class: 'note' }, emptyText);
  const thead = el('thead', null, el('tr', null, ...headers.map((h) => el('th', { scope: 'col' }, h))));
  const tbody = el('tbody', null, ...rows.map((r) => el('tr', null,
    ...r.map((c, i) => el('td', { 'data-label': headers[i] }, c)))));
  return el('div', { class: 'scroll' }, el('table', null, thead, tbody));
}

function showError(msg) {
  const e = $('error');
  e.textContent = msg || '';
  e.hidden = !msg;
}

function fmtRate(v) { return (v || 0).toFixed(1) + '/s'; }
function fmtBytes(v) {
  v = v || 0;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return (i ? v.toFixed(1) : String(v)) + ' ' + units[i];
}

// ---- API ----------------------------------------------------------------------------------
async function api(method, path, body) {
  const headers = {};
  if (token) headers.Authorization = 'Bearer ' + token;
  const init = { method, headers };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  if (r.status === 401) throw new AuthError('401');
  if (!r.ok) {
    let reason = r.statusText;
    try { reason = (await r.json()).reason || reason; } catch { /* not JSON */ }
    const err = new Error(r.status + ' ' + reason);
    err.status = r.status;
    throw err;
  }
  return r;
}
async function getJson(path) { return (await api('GET', path)).json(); }

// Topic name helpers: t = { domain, tenant, ns, local, partitioned, partitions }.
function parseTopic(full) {
  const m = /^(persistent|non-persistent):\/\/([^/]+)\/([^/]+)\/(.+)$/.exec(full);
  return m ? { domain: m[1], tenant: m[2], ns: m[3], local: m[4] } : null;
}
function topicFull(t) { return `${t.domain}://${t.tenant}/${t.ns}/${t.local}`; }
function topicPath(t) {
  return [t.domain, t.tenant, t.ns, t.local].map(encodeURIComponent).join('/');
}
function adminTopic(t, rest) { return '/admin/v2/' + topicPath(t) + (rest || ''); }
function wsUrl(kind, t, query) {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const q = new URLSearchParams(query || {});
  if (token) q.set('token', token);
  const qs = q.toString();
  return `${proto}//${location.host}/ws/v2/${kind}/${topicPath(t)}${qs ? '?' + qs : ''}`;
}
function topicHash(t) { return '#/topic/' + topicPath(t); }

// ---- overview: tenants, namespaces, topics with their stats --------------------------------
function sumSubs(stats, f) {
  return Object.values(stats.subscriptions || {}).reduce((a, s) => a + f(s), 0);
}
function topicRow(t, stats) {
  const subs = Object.values(stats.subscriptions || {});
  const link = el('a', { href: topicHash(t) }, t.local);
  return [
    el('span', null, link, t.partitioned ? el('span', { class: 'tag' }, `${t.partitions} partitions`) : null),
    (stats.publishers || []).length, subs.length,
    subs.reduce((a, s) => a + (s.consumers || []).length, 0),
    fmtRate(stats.msgRateIn), fmtRate(stats.msgRateOut),
    sumSubs(stats, (s) => s.msgBacklog || 0), fmtBytes(stats.storageSize),
  ];
}

async function listTopics(tenant, ns) {
  const all = await getJson(`/admin/v2/namespaces/${encodeURIComponent(tenant)}/${encodeURIComponent(ns)}/topics`);
  const parted = [];
  for (const domain of ['persistent', 'non-persistent']) {
    try {
      parted.push(...await getJson(`/admin/v2/${domain}/${encodeURIComponent(tenant)}/${encodeURIComponent(ns)}/partitioned`));
    } catch (e) { if (e instanceof AuthError) throw e; }
  }
  const out = [];
  const partedSet = new Set(parted);
  for (const name of parted) {
    const t = parseTopic(name);
    if (t) out.push(Object.assign(t, { partitioned: true, partitions: 0 }));
  }
  for (const name of all) {
    const m = /^(.*)-partition-(\d+)$/.exec(name);
    if (m && partedSet.has(m[1])) {
      out.find((t) => topicFull(t) === m[1]).partitions++;
      continue;
    }
    const t = parseTopic(name);
    if (t && !partedSet.has(name)) out.push(t);
  }
  return out.sort((a, b) => topicFull(a).localeCompare(topicFull(b)));
}

async function topicStats(t) {
  if (t.partitioned) return getJson(adminTopic(t, '/partitioned-stats?perPartition=true'));
  return getJson(adminTopic(t, '/stats'));
}

async function renderOverview() {
  const tenants = (await getJson('/admin/v2/tenants')).sort();
  const blocks = [];
  for (const tenant of tenants) {
    const nss = (await getJson(`/admin/v2/namespaces/${encodeURIComponent(tenant)}`)).sort();
    const nsBlocks = [];
    for (const full of nss) {
      const ns = full.slice(full.indexOf('/') + 1);
      const topics = await listTopics(tenant, ns);
      const rows = [];
      for (const t of topics) {
        let stats = {};
        try { stats = await topicStats(t); } catch (e) { if (e instanceof AuthError) throw e; }
        rows.push(topicRow(t, stats));
      }
      nsBlocks.push(el('div', { class: 'ns' }, el('h3', null, full),
        table(['Topic', 'Producers', 'Subscriptions', 'Consumers', 'Rate in', 'Rate out', 'Backlog', 'Storage'],
          rows, 'No topics.')));
    }
    blocks.push(el('div', { class: 'card tenant' }, el('h2', null, 'Tenant ', el('strong', null, tenant)),
      nsBlocks.length ? el('div', null, ...nsBlocks) : el('p', { class: 'note' }, 'No namespaces.')));
  }
  $('tenants').replaceChildren(...(blocks.length ? blocks : [el('p', { class: 'note' }, 'No tenants.')]));
}

// ---- topic page -------------------------------------------------------------------------------
function statBox(label, value) {
  return el('div', { class: 'stat' }, el('span', { class: 'label' }, label), el('span', { class: 'value' }, value));
}

function subActions(t, name) {
  const act = async (label, method, rest, question) => {
    if (question && !confirm(question)) return;
    try {
      await api(method, adminTopic(t, rest));
      showError('');
      refresh();
    } catch (e) { handleError(e, label); }
  };
  const enc = encodeURIComponent(name);
  return el('span', { class: 'actions' },
    el('button', { type: 'button', onclick: () => act('Skip 1', 'POST', `/subscription/${enc}/skip/1`) }, 'Skip 1'),
    el('button', { type: 'button', onclick: () => act('Clear backlog', 'POST', `/subscription/${enc}/skip_all`,
      `Clear the whole backlog of ${name}?`) }, 'Clear backlog'),
    el('button', { type: 'button', onclick: () => act('Unsubscribe', 'DELETE', `/subscription/${enc}?force=true`,
      `Delete subscription ${name} (its consumers are disconnected)?`) }, 'Unsubscribe'));
}

async function renderTopic(t) {
  const stats = await topicStats(t);
  const subs = Object.entries(stats.subscriptions || {}).sort((a, b) => a[0].localeCompare(b[0]));
  $('topic-stats').replaceChildren(
    statBox('Rate in', fmtRate(stats.msgRateIn)), statBox('Rate out', fmtRate(stats.msgRateOut)),
    statBox('Backlog', String(sumSubs(stats, (s) => s.msgBacklog || 0))),
    statBox('Storage', fmtBytes(stats.storageSize)),
    statBox('Producers', String((stats.publishers || []).length)),
    statBox('Subscriptions', String(subs.length)));
  $('subscriptions').replaceChildren(table(['Subscription', 'Type', 'Backlog', 'Unacked', 'Consumers', 'Rate out', ''],
    subs.map(([name, s]) => [name, s.type || '', s.msgBacklog || 0, s.unackedMessages || 0,
      (s.consumers || []).map((c) => c.consumerName || '?').join(', ') || '0', fmtRate(s.msgRateOut),
      subActions(t, name)]), 'No subscriptions.'));
  const parts = Object.entries(stats.partitions || {}).sort((a, b) => a[0].localeCompare(b[0], undefined, { numeric: true }));
  $('partitions').closest('.card').hidden = !t.partitioned;
  $('partitions').replaceChildren(table(['Partition', 'Producers', 'Subscriptions', 'Rate in', 'Rate out', 'Backlog', 'Storage'],
    parts.map(([name, p]) => [name.slice(name.lastIndexOf('/') + 1), (p.publishers || []).length,
      Object.keys(p.subscriptions || {}).length, fmtRate(p.msgRateIn), fmtRate(p.msgRateOut),
      sumSubs(p, (s) => s.msgBacklog || 0), fmtBytes(p.storageSize)]), 'No partitions.'));
}

function partitionTopics(t) {
  if (!t.partitioned) return [t];
  const out = [];
  for (let i = 0; i < t.partitions; i++) out.push(Object.assign({}, t, { local: `${t.local}-partition-${i}`, partitioned: false }));
  return out;
}

function bytesToHex(b) {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
}
function formatPayload(bytes, fmt) {
  if (fmt === 'hex') return bytesToHex(bytes);
  const text = new TextDecoder('utf-8').decode(bytes);
  if (fmt === 'json') {
    try { return JSON.stringify(JSON.parse(text), null, 2); } catch { return '(not JSON) ' + text; }
  }
  return text;
}
function b64ToBytes(s) {
  const bin = atob(s || '');
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
function bytesToB64(bytes) {
  let bin = '';
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
  return btoa(bin);
}

// Peek the newest messages: lastMessageId, then GET .../ledger/{l}/entry/{e} backwards (the
// admin calls behind PulsarAdmin.topics().getLastMessageId / getMessageById).
async function peekOne(t, count) {
  const last = await getJson(adminTopic(t, '/lastMessageId'));
  const out = [];
  for (let e = last.entryId; e >= 0 && out.length < count; e--) {
    let r;
    try { r = await api('GET', adminTopic(t, `/ledger/${last.ledgerId}/entry/${e}`)); } catch (err) {
      if (err instanceof AuthError) throw err;
      break;
    }
    const props = [];
    r.headers.forEach((v, k) => {
      if (k.startsWith('x-pulsar-property-')) props.push(k.slice(18) + '=' + v);
    });
    out.push({
      id: r.headers.get('x-pulsar-message-id') || `${last.ledgerId}:${e}`,
      partition: t.local,
      key: r.headers.get('x-pulsar-partition-key') || r.headers.get('x-pulsar-key') || '',
      published: r.headers.get('x-pulsar-publish-time') || '',
      props: props.join(', '),
      bytes: new Uint8Array(await r.arrayBuffer()),
    });
  }
  return out;
}

async function renderPeek() {
  if (!view || view.kind !== 'topic') return;
  const t = view.topic;
  const fmt = $('peek-format').value;
  let msgs = [];
  for (const p of partitionTopics(t)) msgs.push(...await peekOne(p, PEEK_COUNT));
  msgs.sort((a, b) => b.published.localeCompare(a.published));
  msgs = msgs.slice(0, PEEK_COUNT);
  $('peek').replaceChildren(table(['Message id', 'Published', 'Key', 'Properties', 'Payload'],
    msgs.map((m) => [t.partitioned ? `${m.id} (${m.partition.replace(/.*-partition-/, 'p')})` : m.id,
      m.published, m.key, m.props, el('pre', { class: 'payload' }, formatPayload(m.bytes, fmt))]),
    'No messages.'));
}

// ---- publish (WebSocket producer) and live tail (WebSocket reader) --------------------------
function publish(t, key, props, payload) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl('producer', t));
    const timer = setTimeout(() => { ws.close(); reject(new Error('no answer from the producer')); }, 10000);
    ws.onopen = () => {
      const msg = { payload: bytesToB64(new TextEncoder().encode(payload)), context: 'console' };
      if (key) msg.key = key;
      if (Object.keys(props).length) msg.properties = props;
      ws.send(JSON.stringify(msg));
    };
    ws.onmessage = (ev) => {
      clearTimeout(timer);
      ws.close();
      const r = JSON.parse(ev.data);
      if (r.result === 'ok') resolve(r.messageId); else reject(new Error(r.errorMsg || r.result));
    };
    ws.onerror = () => { clearTimeout(timer); reject(new Error('WebSocket connection refused')); };
  });
}

function parseProps(text) {
  const props = {};
  for (const line of text.split('\n')) {
    const s = line.trim();
    if (!s) continue;
    const i = s.indexOf('=');
    if (i <= 0) throw new Error(`property line "${s}" is not key=value`);
    props[s.slice(0, i).trim()] = s.slice(i + 1).trim();
  }
  return props;
}

function stopTail() {
  for (const ws of tailSockets) ws.close();
  tailSockets = [];
  $('tail-toggle').textContent = 'Start tail';
  $('tail-state').textContent = '';
}

function startTail(t) {
  stopTail();
  $('tail').replaceChildren();
  $('tail-toggle').textContent = 'Stop tail';
  $('tail-state').textContent = 'connecting...';
  for (const p of partitionTopics(t)) {
    const ws = new WebSocket(wsUrl('reader', p, { messageId: 'latest' }));
    ws.onopen = () => { $('tail-state').textContent = 'waiting for new messages'; };
    ws.onmessage = (ev) => {
      const m = JSON.parse(ev.data);
      if (!m.messageId) return;
      ws.send(JSON.stringify({ messageId: m.messageId }));   // permits for the reader
      const props = Object.entries(m.properties || {}).map(([k, v]) => k + '=' + v).join(', ');
      const li = el('li', null,
        el('span', { class: 'meta' }, `${m.publishTime || ''} ${t.partitioned ? p.local.replace(/.*-partition-/, 'p') : ''}`,
          m.key ? ` key=${m.key}` : '', props ? ` [${props}]` : ''),
        el('pre', { class: 'payload' }, formatPayload(b64ToBytes(m.payload), $('peek-format').value)));
      const list = $('tail');
      list.prepend(li);
      while (list.children.length > TAIL_MAX) list.lastChild.remove();
    };
    ws.onclose = (ev) => {
      if (tailSockets.includes(ws)) $('tail-state').textContent = `closed (${ev.code}${ev.reason ? ' ' + ev.reason : ''})`;
    };
    tailSockets.push(ws);
  }
}

// ---- navigation, polling, login ---------------------------------------------------------------
function handleError(e, what) {
  if (e instanceof AuthError) {
    showLogin(token ? 'The token was refused.' : '');
    return;
  }
  showError(`${what}: ${e.message}`);
}

function showLogin(msg) {
  stopPolling();
  for (const id of ['overview', 'topic']) $(id).hidden = true;
  $('login').hidden = false;
  $('logout').hidden = true;
  showError(msg || '');
  $('token').focus();
}

function stopPolling() {
  if (pollTimer) clearTimeout(pollTimer);
  pollTimer = null;
}

async function refresh() {
  stopPolling();
  try {
    if (view.kind === 'overview') await renderOverview(); else await renderTopic(view.topic);
    $('status').textContent = 'updated ' + new Date().toLocaleTimeString();
    $('status').classList.remove('bad');
  } catch (e) {
    if (e instanceof AuthError) { handleError(e, 'refresh'); return; }
    $('status').textContent = 'refresh failed: ' + e.message;
    $('status').classList.add('bad');
  }
  pollTimer = setTimeout(refresh, POLL_MS);
}

async function route() {
  stopPolling();
  stopTail();
  showError('');
  $('login').hidden = true;
  $('logout').hidden = !token;
  const m = /^#\/topic\/([^/]+)\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(location.hash);
  const crumbs = [el('a', { href: '#/' }, 'Tenants')];
  if (m) {
    const [domain, tenant, ns, local] = m.slice(1).map(decodeURIComponent);
    const t = { domain, tenant, ns, local };
    view = { kind: 'topic', topic: t };
    crumbs.push(' / ', `${tenant}/${ns}`, ' / ', local);
    $('topic-title').textContent = topicFull(t);
    $('overview').hidden = true;
    $('topic').hidden = false;
    $('reset-sub').value = '';
    try {
      const meta = await getJson(adminTopic(t, '/partitions'));
      t.partitioned = meta.partitions > 0;
      t.partitions = meta.partitions;
    } catch (e) {
      if (e instanceof AuthError) { handleError(e, 'topic'); return; }
      t.partitioned = false;
    }
    renderPeek().catch((e) => handleError(e, 'peek'));
  } else {
    view = { kind: 'overview' };
    $('topic').hidden = true;
    $('overview').hidden = false;
  }
  $('crumbs').replaceChildren(...crumbs);
  refresh();
}

function formAction(form, fn) {
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try { await fn(); showError(''); } catch (e) { handleError(e, form.dataset.what || 'action'); }
  });
}

function init() {
  formAction($('login-form'), async () => {
    token = $('token').value.trim();
    sessionStorage.setItem(TOKEN_KEY, token);
    $('token').value = '';
    await getJson('/admin/v2/tenants');
    route();
  });
  $('logout').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    token = '';
    showLogin('');
  });
  formAction($('create-form'), async () => {
    const [tenant, ns] = $('create-ns').value.trim().split('/');
    const t = { domain: 'persistent', tenant, ns, local: $('create-name').value.trim() };
    const parts = parseInt($('create-parts').value, 10) || 0;
    if (parts > 0) await api('PUT', adminTopic(t, '/partitions'), parts);
    else await api('PUT', adminTopic(t));
    $('create-name').value = '';
    refresh();
  });
  formAction($('reset-form'), async () => {
    const ts = new Date($('reset-time').value).getTime();
    if (!Number.isFinite(ts)) throw new Error('pick a date and time');
    await api('POST', adminTopic(view.topic, `/subscription/${encodeURIComponent($('reset-sub').value.trim())}/resetcursor/${ts}`));
    refresh();
  });
  formAction($('publish-form'), async () => {
    $('pub-result').textContent = 'sending...';
    try {
      const id = await publish(view.topic, $('pub-key').value, parseProps($('pub-props').value), $('pub-payload').value);
      $('pub-result').textContent = 'sent, message id ' + id;
    } catch (e) {
      $('pub-result').textContent = '';
      throw e;
    }
    renderPeek().catch((e) => handleError(e, 'peek'));
  });
  $('peek-refresh').addEventListener('click', () => renderPeek().catch((e) => handleError(e, 'peek')));
  $('peek-format').addEventListener('change', () => renderPeek().catch((e) => handleError(e, 'peek')));
  $('tail-toggle').addEventListener('click', () => {
    if (tailSockets.length) stopTail(); else startTail(view.topic);
  });
  const topicAction = (label, method, rest, question, after) => async () => {
    if (!confirm(question)) return;
    try {
      await api(method, adminTopic(view.topic, rest));
      showError('');
      after();
    } catch (e) { handleError(e, label); }
  };
  $('act-terminate').addEventListener('click', topicAction('Terminate', 'POST', '/terminate',
    'Terminate this topic? No more messages can be published to it.', () => refresh()));
  $('act-delete').addEventListener('click', () => topicAction('Delete', 'DELETE',
    view.topic.partitioned ? '/partitions?force=true' : '?force=true',
    'Delete this topic and all its messages?', () => { location.hash = '#/'; })());
  window.addEventListener('hashchange', route);
  route();
}

document.addEventListener('DOMContentLoaded', init);
