// console.test.mjs - the web console in a real headless Chromium (ctest console-chromium).
//
// Debian's /usr/bin/chromium driven by npm playwright-core (no browser is ever downloaded).
// Starts the REAL magnetar binary ($MAGNETAR_BIN), makes topics and messages through the public
// APIs, then checks in the browser: the overview lists them with their stats, the topic page
// peeks the messages (key, properties, payload), the publish form's message reaches a real `ws`
// consumer, the live tail shows a message produced by Python (python3-websocket), a partitioned
// topic shows its partitions, "Clear backlog" empties a subscription, and the page raised no
// script or CSP error. A second run with authentication on checks the token prompt (REST with
// Authorization: Bearer, WebSockets with ?token=). Screenshots at 1280x800 and 390x844 go to
// $MAG_ARTIFACTS_DIR (default build/test-artifacts/console). Where Chromium or playwright-core
// is missing it prints "SKIPPED: ..." and exits 77 (ctest SKIP_RETURN_CODE).

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { createRequire } from 'node:module';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const SOURCE_DIR = process.env.MAG_SOURCE_DIR || resolve(here, '..', '..');
const MAGNETAR_BIN = process.env.MAGNETAR_BIN || join(SOURCE_DIR, 'build', 'magnetar');
const TOKEN_BIN = join(dirname(MAGNETAR_BIN), 'magnetar-token');
const ARTIFACTS = process.env.MAG_ARTIFACTS_DIR || join(dirname(MAGNETAR_BIN), 'test-artifacts', 'console');
const CHROMIUM = process.env.MAG_CHROMIUM || '/usr/bin/chromium';
const SKIP = 77;

function skip(why) {
  console.log('='.repeat(72));
  console.log(`SKIPPED: ${why}`);
  console.log('='.repeat(72));
  process.exit(SKIP);
}

if (!existsSync(CHROMIUM)) skip(`no Chromium at ${CHROMIUM} (apt-get install chromium)`);
let chromium, WebSocket;
try {
  ({ chromium } = require('playwright-core'));
  WebSocket = require('ws');
} catch (e) {
  skip(`playwright-core/ws not installed (cd tests/console && npm ci): ${e.message}`);
}

const cleanups = [];
process.on('exit', () => { for (const f of cleanups.reverse()) { try { f(); } catch { /* ignore */ } } });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(1));

function tmp(prefix) {
  const d = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function fail(msg) { throw new Error(msg); }
function check(cond, msg) { if (!cond) fail(msg); }

function startServer(extra = []) {
  const dataDir = tmp('mag-console-data-');
  const errPath = join(tmp('mag-console-log-'), 'stderr.log');
  const proc = spawn(MAGNETAR_BIN, ['-p', '0', '-d', dataDir, ...extra],
    { stdio: ['ignore', 'pipe', openSync(errPath, 'w')] });
  cleanups.push(() => { if (proc.exitCode === null) proc.kill('SIGKILL'); });
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error('no ready line: ' + readFileSync(errPath, 'utf8'))), 10000);
    createInterface({ input: proc.stdout }).once('line', (line) => {
      clearTimeout(timer);
      const m = /^magnetar ready ws:\/\/127\.0\.0\.1:(\d+)/.exec(line);
      if (!m) return rej(new Error('unexpected first line: ' + line));
      const port = Number(m[1]);
      res({ proc, port, errPath, http: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}` });
    });
  });
}

// Kills the server and fails on a sanitizer report in its stderr (ASan/UBSan builds).
function stopServer(srv) {
  srv.proc.kill('SIGKILL');
  const log = readFileSync(srv.errPath, 'utf8');
  const bad = log.split('\n').filter((l) => /ERROR: AddressSanitizer|runtime error:/.test(l));
  results.push(bad.length === 0);
  console.log(bad.length ? 'FAIL sanitizer report in the server log:\n' + bad.join('\n') : 'PASS no sanitizer report in the server log');
}

async function rest(srv, method, path, body, token) {
  const headers = {};
  if (token) headers.Authorization = 'Bearer ' + token;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(srv.http + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (r.status >= 300) fail(`${method} ${path}: ${r.status} ${await r.text()}`);
  return r.status === 200 && (r.headers.get('content-type') || '').includes('json') ? r.json() : null;
}

function wsOpen(url) {
  return new Promise((res, rej) => {
    const ws = new WebSocket(url);
    ws.once('open', () => res(ws));
    ws.once('error', rej);
    ws.once('unexpected-response', (_req, resp) => rej(new Error(`${url}: HTTP ${resp.statusCode}`)));
  });
}
function nextMessage(ws, ms = 10000) {
  return new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error('no WebSocket message within ' + ms + ' ms')), ms);
    ws.once('message', (data) => { clearTimeout(t); res(JSON.parse(data.toString())); });
  });
}
const b64 = (s) => Buffer.from(s, 'utf8').toString('base64');

async function produce(srv, topic, msgs) {
  const ws = await wsOpen(`${srv.ws}/ws/v2/producer/persistent/public/default/${topic}`);
  for (const m of msgs) {
    ws.send(JSON.stringify(Object.assign({}, m, { payload: b64(m.payload) })));
    const r = await nextMessage(ws);
    check(r.result === 'ok', 'produce: ' + JSON.stringify(r));
  }
  ws.close();
}

// Python (Debian python3-websocket) produces one message, as a user's script would.
function pythonProduce(srv, topic, payload) {
  const script = `
import base64, json, sys, websocket
ws = websocket.create_connection(sys.argv[1], timeout=10)
ws.send(json.dumps({"payload": base64.b64encode(sys.argv[2].encode()).decode(), "key": "py"}))
r = json.loads(ws.recv())
assert r["result"] == "ok", r
ws.close()
`;
  const p = spawnSync('/usr/bin/python3', ['-c', script,
    `${srv.ws}/ws/v2/producer/persistent/public/default/${topic}`, payload], { encoding: 'utf8', timeout: 20000 });
  check(p.status === 0, 'python producer failed: ' + p.stderr);
}

async function launch() {
  const userDataDir = tmp('mag-console-chromium-');
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

function watchErrors(page) {
  const errors = [];
  page.on('pageerror', (e) => errors.push('page error: ' + e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push('console error: ' + m.text()); });
  page.on('dialog', (d) => d.accept());
  page.on('response', (r) => { if (r.status() === 404) errors.push('404 for ' + r.url()); });
  return errors;
}

async function shot(page, name, size) {
  if (size) await page.setViewportSize(size);
  await page.screenshot({ path: join(ARTIFACTS, name), fullPage: false });
}

const results = [];
async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push(true);
    console.log(`PASS ${name} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
  } catch (e) {
    results.push(false);
    console.log(`FAIL ${name}: ${e.stack || e}`);
  }
}

async function openRun() {
  const srv = await startServer();
  await rest(srv, 'PUT', '/admin/v2/persistent/public/default/orders');
  await rest(srv, 'PUT', '/admin/v2/persistent/public/default/metrics/partitions', 3);
  await produce(srv, 'orders', [
    { payload: '{"order":1,"item":"tea"}', key: 'customer-1', properties: { region: 'eu' } },
    { payload: 'plain <b>text</b> & more', key: 'customer-2' },
    { payload: '{"order":3,"item":"cake"}', properties: { region: 'us' } },
  ]);
  // a subscription with a backlog, to see it in the page and clear it from there
  await rest(srv, 'PUT', '/admin/v2/persistent/public/default/orders/subscription/audit',
    { ledgerId: -1, entryId: -1 });

  const ctx = await launch();
  cleanups.push(() => ctx.close().catch(() => {}));
  const page = ctx.pages()[0] || await ctx.newPage();
  const errors = watchErrors(page);

  await step('overview lists tenants, namespaces and topics with stats', async () => {
    await page.goto(srv.http + '/');
    const row = page.locator('#tenants tr', { hasText: 'orders' });
    await row.waitFor({ timeout: 10000 });
    check((await page.locator('#tenants h2').allTextContents()).some((t) => t.includes('public')), 'tenant public shown');
    check((await page.locator('#tenants h3').allTextContents()).includes('public/default'), 'namespace shown');
    const cells = await row.locator('td').allTextContents();
    check(cells[2] === '1', 'orders has 1 subscription: ' + cells);
    check(cells[6] === '3', 'orders backlog is 3: ' + cells);
    check(/B$/.test(cells[7]), 'storage size shown: ' + cells);
    const parted = await page.locator('#tenants tr', { hasText: 'metrics' }).textContent();
    check(parted.includes('3 partitions'), 'partitioned topic shown as one with 3 partitions: ' + parted);
    check(!(await page.locator('#tenants').textContent()).includes('metrics-partition-'), 'partitions not listed as topics');
    await shot(page, 'overview-1280x800.png');
  });

  await step('live refresh: a new topic appears within a few seconds', async () => {
    await rest(srv, 'PUT', '/admin/v2/persistent/public/default/late-topic');
    await page.locator('#tenants tr', { hasText: 'late-topic' }).waitFor({ timeout: 6000 });
  });

  await step('topic page: subscriptions and peek of the latest messages', async () => {
    await page.locator('#tenants a', { hasText: /^orders$/ }).click();
    await page.locator('#topic-title', { hasText: 'persistent://public/default/orders' }).waitFor();
    const sub = page.locator('#subscriptions tr', { hasText: 'audit' });
    await sub.waitFor();
    const cells = await sub.locator('td').allTextContents();
    check(cells[1] === 'Exclusive' && cells[2] === '3', 'audit subscription: ' + cells);
    const peek = page.locator('#peek tbody tr');
    await peek.nth(2).waitFor();
    const text = await page.locator('#peek').textContent();
    check(text.includes('plain <b>text</b> & more'), 'payload shown as text (escaped, not HTML)');
    check((await page.locator('#peek b').count()) === 0, 'payload was not parsed as HTML');
    check(text.includes('region=eu'), 'properties shown');
    const keyed = await page.locator('#peek tbody tr', { hasText: 'tea' }).locator('td').allTextContents();
    check(keyed[2] === 'customer-1', 'key shown (X-Pulsar-partition-key): ' + keyed);
    check(/\d+:\d+/.test(await peek.first().locator('td').first().textContent()), 'message id shown');
    await page.selectOption('#peek-format', 'hex');
    await page.locator('#peek', { hasText: '7b 22 6f 72 64 65 72 22' }).waitFor();
    await page.selectOption('#peek-format', 'json');
    await page.locator('#peek pre', { hasText: '"item": "cake"' }).waitFor();
    await page.selectOption('#peek-format', 'text');
  });

  await step('publish form: the message reaches a real ws consumer', async () => {
    const consumer = await wsOpen(`${srv.ws}/ws/v2/consumer/persistent/public/default/orders/node-sub`);
    const got = nextMessage(consumer, 15000);
    await page.fill('#pub-key', 'from-form');
    await page.fill('#pub-props', 'source=console\nlang=en');
    await page.fill('#pub-payload', 'hello from the browser ✓');
    await page.click('#pub-send');
    const m = await got;
    check(Buffer.from(m.payload, 'base64').toString('utf8') === 'hello from the browser ✓', 'payload: ' + m.payload);
    check(m.key === 'from-form', 'key: ' + m.key);
    check(m.properties && m.properties.source === 'console' && m.properties.lang === 'en', 'properties: ' + JSON.stringify(m.properties));
    await page.locator('#pub-result', { hasText: 'sent' }).waitFor();
    consumer.send(JSON.stringify({ messageId: m.messageId }));
    consumer.close();
  });

  await step('live tail shows a message produced by Python', async () => {
    await page.click('#tail-toggle');
    await page.locator('#tail-state', { hasText: 'waiting' }).waitFor({ timeout: 10000 });
    pythonProduce(srv, 'orders', 'tailed from python');
    await page.locator('#tail li', { hasText: 'tailed from python' }).waitFor({ timeout: 10000 });
    check((await page.locator('#tail li').first().textContent()).includes('key=py'), 'key shown in the tail');
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, 'topic-1280x800.png');
    await shot(page, 'topic-390x844.png', { width: 390, height: 844 });
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  await step('clear backlog from the subscription row', async () => {
    await page.locator('#subscriptions tr', { hasText: 'audit' }).getByRole('button', { name: 'Clear backlog' }).click();
    const deadline = Date.now() + 8000;
    let backlog;
    while (Date.now() < deadline) {
      const st = await rest(srv, 'GET', '/admin/v2/persistent/public/default/orders/stats');
      backlog = st.subscriptions.audit.msgBacklog;
      if (backlog === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    check(backlog === 0, 'audit backlog after Clear backlog: ' + backlog);
  });

  await step('reset cursor by time, skip 1, unsubscribe, terminate', async () => {
    const stats = () => rest(srv, 'GET', '/admin/v2/persistent/public/default/orders/stats');
    const waitFor = async (pred, what) => {
      const deadline = Date.now() + 8000;
      let st;
      while (Date.now() < deadline) {
        st = await stats();
        if (pred(st)) return st;
        await new Promise((r) => setTimeout(r, 200));
      }
      fail(what + ': ' + JSON.stringify(st.subscriptions));
    };
    // reset "audit" to a time before every message: the whole topic is its backlog again
    const total = (await stats()).subscriptions.audit;
    check(total.msgBacklog === 0, 'audit starts empty after Clear backlog');
    // first to an hour from now (local time, as the datetime-local field): nothing left to read
    const later = new Date(Date.now() + 3600e3);
    const pad = (n) => String(n).padStart(2, '0');
    const local = `${later.getFullYear()}-${pad(later.getMonth() + 1)}-${pad(later.getDate())}T` +
      `${pad(later.getHours())}:${pad(later.getMinutes())}:${pad(later.getSeconds())}`;
    await page.fill('#reset-sub', 'audit');
    await page.fill('#reset-time', '2000-01-01T00:00:00');
    await page.click('#reset-form button');
    await waitFor((x) => x.subscriptions.audit.msgBacklog >= 5, 'backlog after a first reset to 2000');
    await page.fill('#reset-time', local);
    await page.click('#reset-form button');
    await waitFor((x) => x.subscriptions.audit.msgBacklog === 0, 'backlog after reset to ' + local);
    await page.fill('#reset-time', '2000-01-01T00:00:00');
    await page.click('#reset-form button');
    const st = await waitFor((x) => x.subscriptions.audit.msgBacklog >= 5, 'backlog after reset to 2000');
    const before = st.subscriptions.audit.msgBacklog;
    await page.locator('#subscriptions tr', { hasText: 'audit' }).getByRole('button', { name: 'Skip 1' }).click();
    await waitFor((x) => x.subscriptions.audit.msgBacklog === before - 1, 'backlog after Skip 1');
    await page.locator('#subscriptions tr', { hasText: 'audit' }).getByRole('button', { name: 'Unsubscribe' }).click();
    await waitFor((x) => !x.subscriptions.audit, 'audit deleted');
    await page.locator('#subscriptions tr', { hasText: 'audit' }).waitFor({ state: 'detached', timeout: 6000 });
    await page.click('#act-terminate');
    const deadline = Date.now() + 8000;
    let r;
    while (Date.now() < deadline) {
      r = spawnSync('/usr/bin/python3', ['-c', `
import base64, json, sys, websocket
try:
    websocket.create_connection(sys.argv[1], timeout=5)
    print("open")
except websocket.WebSocketBadStatusException as e:
    print(e.status_code)
`, `${srv.ws}/ws/v2/producer/persistent/public/default/orders`], { encoding: 'utf8' });
      if (r.stdout.trim() === '503') break;
      await new Promise((res) => setTimeout(res, 200));
    }
    check(r.stdout.trim() === '503', 'a producer is refused after Terminate: ' + r.stdout + r.stderr);
  });

  await step('partitioned topic page lists its partitions', async () => {
    await page.goto(srv.http + '/#/topic/persistent/public/default/metrics');
    await page.locator('#partitions tr', { hasText: 'metrics-partition-2' }).waitFor({ timeout: 8000 });
    check(!(await page.locator('#partitions').evaluate((e) => e.closest('.card').hidden)), 'partitions card visible');
  });

  await step('create and delete a topic from the page', async () => {
    await page.goto(srv.http + '/');
    await page.fill('#create-ns', 'public/default');
    await page.fill('#create-name', 'made-in-browser');
    await page.click('#create-form button');
    await page.locator('#tenants a', { hasText: 'made-in-browser' }).waitFor({ timeout: 6000 });
    await page.locator('#tenants a', { hasText: 'made-in-browser' }).click();
    await page.locator('#topic-title', { hasText: 'made-in-browser' }).waitFor();
    await page.click('#act-delete');
    await page.locator('#overview').waitFor();
    const topics = await rest(srv, 'GET', '/admin/v2/persistent/public/default');
    check(!topics.some((t) => t.endsWith('/made-in-browser')), 'topic deleted: ' + topics);
  });

  await step('phone-sized overview', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.locator('#tenants tr', { hasText: 'orders' }).waitFor();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    check(width <= 390, 'no horizontal scrolling at 390px (scrollWidth ' + width + ')');
    await shot(page, 'overview-390x844.png');
  });

  await step('no script or CSP errors in the page', async () => {
    check(errors.length === 0, errors.join(' | '));
  });
  await ctx.close();
  stopServer(srv);
}

async function authRun() {
  const keyDir = tmp('mag-console-key-');
  const secret = join(keyDir, 'secret.key');
  const tool = (...a) => {
    const p = spawnSync(TOKEN_BIN, a, { encoding: 'utf8' });
    check(p.status === 0, 'magnetar-token ' + a.join(' ') + ': ' + p.stderr);
    return p.stdout.trim();
  };
  tool('create-secret-key', '--output', secret);
  const token = tool('create', '--secret-key', 'file://' + secret, '--subject', 'console-admin');
  const srv = await startServer(['-o', 'authenticationEnabled=true', '-o',
    'authenticationProviders=org.apache.pulsar.broker.authentication.AuthenticationProviderToken',
    '-o', 'tokenSecretKey=file://' + secret]);
  await rest(srv, 'PUT', '/admin/v2/persistent/public/default/secured', undefined, token);

  const ctx = await launch();
  cleanups.push(() => ctx.close().catch(() => {}));
  const page = ctx.pages()[0] || await ctx.newPage();
  const errors = watchErrors(page);

  await step('auth: the page asks for a token, a wrong one is refused', async () => {
    await page.goto(srv.http + '/');
    await page.locator('#login').waitFor({ state: 'visible', timeout: 10000 });
    await shot(page, 'login-1280x800.png');
    await page.fill('#token', 'not-a-token');
    await page.click('#login-form button');
    await page.locator('#error', { hasText: 'refused' }).waitFor();
  });

  await step('auth: with the token REST and WebSockets work', async () => {
    await page.fill('#token', token);
    await page.click('#login-form button');
    await page.locator('#tenants a', { hasText: 'secured' }).click();
    await page.click('#tail-toggle');
    await page.locator('#tail-state', { hasText: 'waiting' }).waitFor({ timeout: 10000 });
    await page.fill('#pub-payload', 'authenticated hello');
    await page.click('#pub-send');
    await page.locator('#pub-result', { hasText: 'sent' }).waitFor();
    await page.locator('#tail li', { hasText: 'authenticated hello' }).waitFor({ timeout: 10000 });
    check(await page.evaluate(() => sessionStorage.getItem('magnetar.token') !== null), 'token kept in sessionStorage');
    check(await page.evaluate(() => localStorage.length === 0), 'nothing in localStorage');
  });

  await step('auth: a reload keeps the session, "Forget token" asks again', async () => {
    await page.reload();
    await page.locator('#topic-title', { hasText: 'secured' }).waitFor();
    await page.click('#logout');
    await page.locator('#login').waitFor({ state: 'visible' });
  });

  await step('auth: no script errors besides the refused calls', async () => {
    const other = errors.filter((e) => !/401|Unauthorized/.test(e));
    check(other.length === 0, other.join('\n'));
  });
  await ctx.close();
  stopServer(srv);
}

mkdirSync(ARTIFACTS, { recursive: true });
try {
  await openRun();
  await authRun();
} catch (e) {
  results.push(false);
  console.log('FAIL setup: ' + (e.stack || e));
}
const passed = results.filter(Boolean).length;
console.log(`${passed} passed, ${results.length - passed} failed (screenshots in ${ARTIFACTS})`);
process.exit(results.length && passed === results.length ? 0 : 1);
