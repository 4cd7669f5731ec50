// harness.mjs - shared harness for Magnetar's Node interop tests (npm `ws` client).
//
// Starts the REAL magnetar binary ($MAGNETAR_BIN) with -p 0 and a fresh temp data dir, waits
// for its "magnetar ready ws://127.0.0.1:PORT" line, and gives tests small promise helpers
// around `ws` (open with HTTP status on refusal, next message with timeout, close code). A tiny
// runner prints PASS/FAIL per test and a final "N passed, N failed" line; exit code 0 = all
// passed. Servers are always killed on exit. Nothing is mocked.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { createRequire } from 'node:module';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
export const WebSocket = require('ws');

export const SOURCE_DIR = process.env.MAG_SOURCE_DIR || resolve(here, '..', '..', '..');
export const MAGNETAR_BIN = process.env.MAGNETAR_BIN || join(SOURCE_DIR, 'build', 'magnetar');

const servers = [];
const dirs = [];

function cleanup() {
  for (const s of servers) {
    try { if (s.proc.exitCode === null) s.proc.kill('SIGKILL'); } catch { /* gone */ }
  }
  for (const d of dirs) {
    try { rmSync(d, { recursive: true, force: true }); } catch { /* ignore */ }
  }
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { cleanup(); process.exit(1); });

export function mkdtemp(prefix = 'mag-node-') {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

// Starts magnetar; resolves to { port, url, proc, dataDir, stop(), kill9(), stderrTail() }.
// keep: a server shared by several tests of one file (the runner does not kill it after a test).
export function startServer(extraArgs = [], { dataDir = null, readyTimeoutMs = 10000, keep = false } = {}) {
  if (!existsSync(MAGNETAR_BIN)) {
    return Promise.reject(new Error(`magnetar binary not found at ${MAGNETAR_BIN} (set MAGNETAR_BIN)`));
  }
  dataDir = dataDir || mkdtemp('mag-node-data-');
  const logDir = mkdtemp('mag-node-log-');
  const errPath = join(logDir, 'stderr.log');
  const errFd = openSync(errPath, 'w');
  const args = ['-p', '0', '-d', dataDir, ...extraArgs];
  const proc = spawn(MAGNETAR_BIN, args, { stdio: ['ignore', 'pipe', errFd], cwd: logDir });
  const srv = {
    proc, dataDir, port: 0, url: '', keep,
    stderrTail: () => { try { return readFileSync(errPath, 'utf8').split('\n').slice(-15).join('\n'); } catch { return ''; } },
    stop: () => new Promise((res) => {
      if (proc.exitCode !== null) return res(proc.exitCode);
      proc.once('exit', (code) => res(code));
      proc.kill('SIGTERM');
    }),
    kill9: () => new Promise((res) => {
      if (proc.exitCode !== null) return res();
      proc.once('exit', () => res());
      proc.kill('SIGKILL');
    }),
  };
  servers.push(srv);
  return new Promise((res, rej) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      rej(new Error(`no ready line within ${readyTimeoutMs} ms; stderr:\n${srv.stderrTail()}`));
    }, readyTimeoutMs);
    const rl = createInterface({ input: proc.stdout });
    let first = true;
    rl.on('line', (line) => {
      if (!first) return;
      first = false;
      clearTimeout(timer);
      const m = /^magnetar ready ws:\/\/127\.0\.0\.1:(\d+)( wss:\/\/\S+)?$/.exec(line);
      if (!m) return rej(new Error(`unexpected first stdout line: ${JSON.stringify(line)}`));
      srv.port = Number(m[1]);
      srv.url = `ws://127.0.0.1:${srv.port}`;
      res(srv);
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      if (first) rej(new Error(`magnetar exited (rc=${code}) before ready; stderr:\n${srv.stderrTail()}`));
    });
  });
}

export function topicPath(kind, topic, sub = null, params = '') {
  let p = `/ws/v2/${kind}/persistent/public/default/${topic}`;
  if (sub !== null) p += `/${sub}`;
  if (params) p += `?${params}`;
  return p;
}

export function uniq(prefix = 't') {
  return `${prefix}-${Math.random().toString(16).slice(2, 12)}`;
}

// A ws client with a message queue. open() resolves when connected; rejects with err.status on
// an HTTP refusal.
export class Client {
  constructor(url) {
    this.ws = new WebSocket(url);
    this.queue = [];
    this.waiters = [];
    this.closed = null;
    this.closeWaiters = [];
    this.ws.on('message', (data, isBinary) => {
      const m = isBinary ? data : data.toString('utf8');
      const w = this.waiters.shift();
      if (w) w.resolve(m); else this.queue.push(m);
    });
    this.ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      for (const w of this.waiters.splice(0)) w.reject(new Error(`closed (${code}) while waiting for a message`));
      for (const w of this.closeWaiters.splice(0)) w(this.closed);
    });
    this.ws.on('error', (e) => { this.lastError = e; });
  }

  open(timeoutMs = 5000) {
    return new Promise((res, rej) => {
      const t = setTimeout(() => rej(new Error('open timeout')), timeoutMs);
      this.ws.once('open', () => { clearTimeout(t); res(this); });
      this.ws.once('unexpected-response', (req, resp) => {
        clearTimeout(t);
        const e = new Error(`upgrade refused with HTTP ${resp.statusCode}`);
        e.status = resp.statusCode;
        resp.resume();
        req.destroy();
        rej(e);
      });
      this.ws.once('error', (e) => { clearTimeout(t); rej(e); });
    });
  }

  next(timeoutMs = 5000) {
    if (this.queue.length) return Promise.resolve(this.queue.shift());
    if (this.closed) return Promise.reject(new Error(`closed (${this.closed.code})`));
    return new Promise((resolve, reject) => {
      const w = { resolve: (m) => { clearTimeout(t); resolve(m); }, reject: (e) => { clearTimeout(t); reject(e); } };
      const t = setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`no message within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  async nextJson(timeoutMs = 5000) {
    return JSON.parse(await this.next(timeoutMs));
  }

  // Resolves with { code, reason } once the connection closes (rejects on timeout).
  waitClose(timeoutMs = 5000) {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((res, rej) => {
      const t = setTimeout(() => rej(new Error(`not closed within ${timeoutMs} ms`)), timeoutMs);
      this.closeWaiters.push((c) => { clearTimeout(t); res(c); });
    });
  }

  send(data, opts) {
    return new Promise((res, rej) => this.ws.send(data, opts || {}, (e) => (e ? rej(e) : res())));
  }

  close() {
    try { this.ws.close(1000); } catch { /* ignore */ }
  }
}

export async function connect(srv, path, timeoutMs = 5000) {
  return new Client(srv.url + path).open(timeoutMs);
}

export function b64(s) {
  return Buffer.from(s).toString('base64');
}

export function assertEq(got, expected, what = 'value') {
  const g = JSON.stringify(got);
  const e = JSON.stringify(expected);
  if (g !== e) throw new Error(`${what}: expected ${e}, got ${g}`);
}

export function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

const tests = [];
export function test(name, fn) {
  tests.push({ name, fn });
}

export async function run() {
  let passed = 0;
  let failed = 0;
  const only = process.env.MAG_TEST_FILTER;
  console.log(`# magnetar: ${MAGNETAR_BIN}`);
  for (const { name, fn } of tests) {
    if (only && !name.includes(only)) continue;
    const first = servers.length;
    const t0 = Date.now();
    try {
      await fn();
      passed++;
      console.log(`PASS ${name} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${name} (${((Date.now() - t0) / 1000).toFixed(1)}s): ${e && e.message}`);
      for (const s of servers.slice(first)) {
        const tail = s.stderrTail();
        if (tail.trim()) console.log(`    --- server stderr tail (port ${s.port}) ---\n    ${tail.replace(/\n/g, '\n    ')}`);
      }
    } finally {
      for (const s of servers.slice(first)) {
        if (!s.keep && s.proc.exitCode === null) await s.kill9();
      }
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  cleanup();
  process.exit(failed || !passed ? 1 : 0);
}
