// producer-features.test.mjs - batching + compression round trip with the npm `ws` client (issue #7).
//
// A Node producer with batchingEnabled=true&compressionType=LZ4 pipelines 20 messages (one corked
// socket write): every receipt is ok and its id is the exact 2.10 batch id 08 L 10 E 20 i 30 k
// (messages of one entry share ledger/entry, batch_index 0..k-1 in send order, batch_size k, at
// least one batch of two or more); the Node consumer gets each message on its own with the
// receipt id and the decompressed payload, and acking every index clears the backlog (Pulsar
// #14242) so a reconnecting consumer gets nothing. Each codec round-trips empty, 1-byte, random
// and compressible payloads byte for byte and stores compressible data smaller than NONE.

import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

// Runs from tests/interop/node/ or from its pending/ directory.
const H = await import(existsSync(new URL('./harness.mjs', import.meta.url)) ? './harness.mjs' : '../harness.mjs');
const { startServer, connect, topicPath, uniq, assert, assertEq, test, run } = H;

let shared = null;
async function srv() {
  if (!shared || shared.proc.exitCode !== null) shared = await startServer([], { keep: true });
  return shared;
}

function varint(buf, pos) {
  let v = 0n;
  let shift = 0n;
  for (;;) {
    assert(pos.i < buf.length, `truncated varint in ${buf.toString('hex')}`);
    const b = buf[pos.i++];
    v |= BigInt(b & 0x7f) << shift;
    if (!(b & 0x80)) return Number(v);
    shift += 7n;
  }
}

// MessageIdData fields by number, plus the field order.
function decodeId(id) {
  const buf = Buffer.from(id, 'base64');
  assertEq(buf.toString('base64'), id, `canonical base64 of ${id}`);
  const pos = { i: 0 };
  const out = { order: [] };
  while (pos.i < buf.length) {
    const key = varint(buf, pos);
    assertEq(key & 7, 0, `wire type in ${id}`);
    out.order.push(key >> 3);
    out[key >> 3] = varint(buf, pos);
  }
  return out;
}

function putVarint(v) {
  const out = [];
  do {
    let b = v % 128;
    v = Math.floor(v / 128);
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
}

function batchId(ledger, entry, index, size) {
  return Buffer.from([0x08, ...putVarint(ledger), 0x10, ...putVarint(entry), 0x20, ...putVarint(index),
    0x30, ...putVarint(size)]).toString('base64');
}

function compressible(i, size) {
  let s = '';
  for (let j = 0; s.length < size; j++) s += `{"sensor":"node-${i}","seq":${j},"ok":true}\n`;
  return Buffer.from(s.slice(0, size));
}

async function admin(s, target) {
  const r = await fetch(`http://127.0.0.1:${s.port}${target}`);
  assertEq(r.status, 200, `GET ${target}`);
  return r.json();
}

async function waitUntil(pred, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    if (await pred()) return;
    if (Date.now() > end) throw new Error(`${what} not reached within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Sends every frame in one corked socket write so the server reads them together.
async function burst(client, texts) {
  const sock = client.ws._socket;
  sock.cork();
  const sent = texts.map((t) => client.send(t));
  process.nextTick(() => sock.uncork());
  await Promise.all(sent);
}

async function receipts(client, n) {
  const byCtx = new Map();
  for (let i = 0; i < n; i++) {
    const r = await client.nextJson(10000);
    assert(!byCtx.has(r.context), `duplicate receipt context ${r.context}`);
    byCtx.set(r.context, r);
  }
  return [...Array(n).keys()].map((i) => byCtx.get(String(i)));
}

test('batched LZ4 burst: batch ids, decompressed payloads, acks clear the backlog', async () => {
  const s = await srv();
  const topic = uniq();
  const cons = await connect(s, topicPath('consumer', topic, 'node-sub'));
  const prod = await connect(s, topicPath('producer', topic, null, 'batchingEnabled=true&compressionType=LZ4'));
  const payloads = [Buffer.alloc(0), Buffer.from([0xff])];
  for (let i = 2; i < 20; i++) payloads.push(compressible(i, 300 + i * 50));
  await burst(prod, payloads.map((p, i) => JSON.stringify({ payload: p.toString('base64'), context: String(i) })));
  const rs = await receipts(prod, 20);
  rs.forEach((r, i) => assertEq(r.result, 'ok', `receipt ${i}`));
  const ids = rs.map((r) => r.messageId);
  // Group by (ledger, entry): contiguous in send order, complete batches.
  const groups = [];
  for (const id of ids) {
    const d = decodeId(id);
    const last = groups[groups.length - 1];
    if (last && last.ledger === d[1] && last.entry === d[2]) last.ids.push(id);
    else {
      assert(!groups.some((g) => g.ledger === d[1] && g.entry === d[2]), `entry ${d[2]} not contiguous`);
      groups.push({ ledger: d[1], entry: d[2], ids: [id] });
    }
  }
  for (const g of groups) {
    assertEq(g.ids, g.ids.map((_, i) => batchId(g.ledger, g.entry, i, g.ids.length)), `batch ids of entry ${g.entry}`);
  }
  assert(Math.max(...groups.map((g) => g.ids.length)) >= 2, `no multi-message batch: ${groups.map((g) => g.ids.length)}`);
  const got = [];
  for (let i = 0; i < 20; i++) got.push(await cons.nextJson(10000));
  assertEq(got.map((m) => m.messageId), ids, 'delivered ids = receipt ids');
  got.forEach((m, i) => assert(Buffer.from(m.payload, 'base64').equals(payloads[i]), `payload ${i} differs`));
  for (const m of got) await cons.send(JSON.stringify({ messageId: m.messageId }));
  const stats = `/admin/v2/persistent/public/default/${topic}/stats`;
  await waitUntil(async () => (await admin(s, stats)).subscriptions['node-sub'].msgBacklog === 0, 5000,
    'msgBacklog 0 after acking every batch index');
  cons.close();
  await cons.waitClose();
  let again = null;
  for (let tries = 0; !again && tries < 40; tries++) {
    try { again = await connect(s, topicPath('consumer', topic, 'node-sub')); } catch (e) {
      if (e.status !== 409) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  assert(again, 'consumer could not reconnect');
  let extra = null;
  try { extra = await again.next(800); } catch { /* expected: nothing */ }
  assertEq(extra, null, 'redelivery after every index was acked');
  again.close();
  prod.close();
});

test('every codec round-trips exact bytes and shrinks compressible data', async () => {
  const s = await srv();
  const payloads = [Buffer.alloc(0), Buffer.from([0x00]), randomBytes(65536), compressible(7, 200000)];
  const sizes = {};
  for (const ct of ['NONE', 'LZ4', 'ZLIB', 'ZSTD', 'SNAPPY']) {
    const topic = uniq(ct.toLowerCase());
    const cons = await connect(s, topicPath('consumer', topic, 'sub'));
    const prod = await connect(s, topicPath('producer', topic, null, `compressionType=${ct}`));
    const ids = [];
    for (let i = 0; i < payloads.length; i++) {
      await prod.send(JSON.stringify({ payload: payloads[i].toString('base64'), context: String(i) }));
      const r = await prod.nextJson(10000);
      assertEq([r.result, r.context], ['ok', String(i)], `receipt ${i} with ${ct}`);
      ids.push(r.messageId);
    }
    for (let i = 0; i < payloads.length; i++) {
      const m = await cons.nextJson(10000);
      assertEq(m.messageId, ids[i], `delivered id ${i} with ${ct}`);
      assert(Buffer.from(m.payload, 'base64').equals(payloads[i]),
        `payload ${i} (${payloads[i].length} bytes) differs with ${ct}`);
    }
    sizes[ct] = (await admin(s, `/admin/v2/persistent/public/default/${topic}/internalStats`)).totalSize;
    cons.close();
    prod.close();
  }
  for (const ct of ['LZ4', 'ZLIB', 'ZSTD', 'SNAPPY']) {
    assert(sizes[ct] * 2 < sizes.NONE, `${ct} stored ${sizes[ct]} bytes vs NONE ${sizes.NONE}`);
  }
});

test('invalid compressionType is refused with HTTP 400', async () => {
  const s = await srv();
  for (const bad of ['lz4', 'GZIP']) {
    let status = null;
    try { (await connect(s, topicPath('producer', uniq(), null, `compressionType=${bad}`))).close(); } catch (e) { status = e.status; }
    assertEq(status, 400, `status for compressionType=${bad}`);
  }
});

await run();
