// tls.test.mjs - wss:// with the npm `ws` client (ctest node-tls, issue #5).
//
// Starts magnetar with tlsEnabled and the test PKI of tools/gen-test-certs.sh, then checks with
// Node's TLS stack: produce/consume over wss:// with the server verified against the test CA
// (ids equal), refusal when the CA is not trusted, mutual TLS (no client certificate refused,
// the CA-signed one accepted), and a token from tools/magnetar-token sent as
// "Authorization: Bearer" over wss:// (401 without it).

import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, openSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { WebSocket, MAGNETAR_BIN, SOURCE_DIR, mkdtemp, topicPath, uniq, b64, assert, assertEq, test, run } from './harness.mjs';

const TOKEN_BIN = join(dirname(MAGNETAR_BIN), 'magnetar-token');
const PROVIDER = 'org.apache.pulsar.broker.authentication.AuthenticationProviderToken';
const procs = [];
process.on('exit', () => { for (const p of procs) { try { p.kill('SIGKILL'); } catch { /* gone */ } } });

let certs = null;
function testCerts() {
  if (!certs) {
    const d = mkdtemp('mag-node-certs-');
    execFileSync('bash', [join(SOURCE_DIR, 'tools', 'gen-test-certs.sh'), d], { stdio: 'ignore' });
    const f = (n) => join(d, n);
    certs = {
      ca: readFileSync(f('ca.cert.pem')),
      serverCert: f('server.cert.pem'), serverKey: f('server.key.pem'),
      clientCert: readFileSync(f('client.cert.pem')), clientKey: readFileSync(f('client.key.pem')),
      caPath: f('ca.cert.pem'),
    };
  }
  return certs;
}

// Start magnetar with TLS; resolves to { tlsPort, proc, stderr() }.
function startTls(extra = []) {
  const c = testCerts();
  const log = join(mkdtemp('mag-node-log-'), 'stderr.log');
  const args = ['-p', '0', '--ephemeral', '-o', 'tlsEnabled=true', '-o', 'webServicePortTls=0',
    '-o', `tlsCertificateFilePath=${c.serverCert}`, '-o', `tlsKeyFilePath=${c.serverKey}`, ...extra];
  const proc = spawn(MAGNETAR_BIN, args, { stdio: ['ignore', 'pipe', openSync(log, 'w')] });
  procs.push(proc);
  const stderr = () => { try { return readFileSync(log, 'utf8'); } catch { return ''; } };
  return new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(`no ready line; stderr:\n${stderr()}`)), 10000);
    createInterface({ input: proc.stdout }).once('line', (line) => {
      clearTimeout(t);
      const m = /^magnetar ready ws:\/\/127\.0\.0\.1:(\d+) wss:\/\/127\.0\.0\.1:(\d+)$/.exec(line);
      if (!m) return rej(new Error(`unexpected ready line ${JSON.stringify(line)}`));
      res({ tlsPort: Number(m[2]), proc, stderr });
    });
  });
}

// Open a wss client; resolves to { ws, next() } or rejects with err.status (HTTP) / TLS error.
function open(port, p, opts = {}) {
  return new Promise((res, rej) => {
    const ws = new WebSocket(`wss://127.0.0.1:${port}${p}`, opts);
    const queue = [];
    const waiters = [];
    ws.on('message', (d) => { const w = waiters.shift(); if (w) w(d.toString()); else queue.push(d.toString()); });
    ws.once('open', () => res({
      ws,
      send: (s) => new Promise((ok, ko) => ws.send(s, (e) => (e ? ko(e) : ok()))),
      next: () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((ok, ko) => {
        const t = setTimeout(() => ko(new Error('no message within 5 s')), 5000);
        waiters.push((m) => { clearTimeout(t); ok(m); });
      })),
    }));
    ws.once('unexpected-response', (req, resp) => {
      const e = new Error(`upgrade refused with HTTP ${resp.statusCode}`);
      e.status = resp.statusCode;
      resp.resume();
      req.destroy();
      rej(e);
    });
    ws.once('error', rej);
  });
}

async function refused(port, p, opts) {
  try {
    const c = await open(port, p, opts);
    // TLS 1.3: a refused client certificate shows up after the handshake.
    await c.send(JSON.stringify({ payload: b64('x') }));
    await c.next();
    c.ws.close();
    return null;
  } catch (e) {
    return e;
  }
}

test('produce and consume over wss with the server verified', async () => {
  const s = await startTls();
  const { ca } = testCerts();
  const topic = uniq('wss');
  const cons = await open(s.tlsPort, topicPath('consumer', topic, 'sub'), { ca });
  const prod = await open(s.tlsPort, topicPath('producer', topic), { ca });
  const ids = [];
  for (let i = 0; i < 5; i++) {
    await prod.send(JSON.stringify({ payload: b64(`m${i}`), context: String(i) }));
    const r = JSON.parse(await prod.next());
    assertEq(r.result, 'ok', 'receipt');
    ids.push(r.messageId);
  }
  for (let i = 0; i < 5; i++) {
    const m = JSON.parse(await cons.next());
    assertEq(m.messageId, ids[i], `message id ${i}`);
    assertEq(Buffer.from(m.payload, 'base64').toString(), `m${i}`, `payload ${i}`);
  }
  assertEq(prod.ws._socket.getProtocol(), 'TLSv1.3', 'protocol');
  prod.ws.close();
  cons.ws.close();
});

test('untrusted server certificate is refused', async () => {
  const s = await startTls();
  const e = await refused(s.tlsPort, topicPath('producer', uniq()), {});
  assert(e && !e.status, `expected a TLS verification error, got ${e && e.message}`);
  assert(/certificate|VERIFY|CERT/.test(`${e.code} ${e.message}`), `error should be about the certificate: ${e.code} ${e.message}`);
});

test('mutual TLS', async () => {
  const c = testCerts();
  const s = await startTls(['-o', `tlsTrustCertsFilePath=${c.caPath}`, '-o', 'tlsRequireTrustedClientCertOnConnect=true']);
  const none = await refused(s.tlsPort, topicPath('producer', uniq()), { ca: c.ca });
  assert(none, 'a client without a certificate must be refused');
  const ok = await refused(s.tlsPort, topicPath('producer', uniq()), { ca: c.ca, cert: c.clientCert, key: c.clientKey });
  assert(ok === null, `a CA-signed client certificate must be accepted: ${ok && ok.message}`);
});

test('token over wss', async () => {
  const dir = mkdtemp('mag-node-key-');
  const key = join(dir, 'secret.key');
  execFileSync(TOKEN_BIN, ['create-secret-key', '--output', key]);
  const token = execFileSync(TOKEN_BIN, ['create', '--secret-key', `file://${key}`, '--subject', 'node']).toString().trim();
  const s = await startTls(['-o', 'authenticationEnabled=true', '-o', `authenticationProviders=${PROVIDER}`,
    '-o', `tokenSecretKey=file://${key}`]);
  const { ca } = testCerts();
  const e = await refused(s.tlsPort, topicPath('producer', uniq()), { ca });
  assert(e && e.status === 401, `no token: expected 401, got ${e && e.message}`);
  const c = await open(s.tlsPort, topicPath('producer', uniq()), { ca, headers: { Authorization: `Bearer ${token}` } });
  await c.send(JSON.stringify({ payload: b64('authed') }));
  assertEq(JSON.parse(await c.next()).result, 'ok', 'publish with token');
  c.ws.close();
});

await run();
