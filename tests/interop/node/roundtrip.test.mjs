// roundtrip.test.mjs - produce/consume round trip with the npm `ws` client (ctest node-roundtrip).
//
// A real Node client must interoperate with magnetar exactly like with Pulsar: the consumer's
// delivered message ids equal the producer's receipt ids (same strings, same order), receipts
// are the exact 2.10 text, and a text message sent as fragments (ws.send(part, {fin:false}) then
// {fin:true}) is reassembled by the server and gets one correct receipt. Also checks ping/pong
// and that a Node reader with messageId=earliest sees the same ids.

import { startServer, connect, topicPath, uniq, b64, assert, assertEq, test, run } from './harness.mjs';

let shared = null;
async function srv() {
  if (!shared || shared.proc.exitCode !== null) shared = await startServer([], { keep: true });
  return shared;
}

test('produce-consume ids equal and in order', async () => {
  const s = await srv();
  const topic = uniq();
  const cons = await connect(s, topicPath('consumer', topic, 'node-sub'));
  const prod = await connect(s, topicPath('producer', topic) + '/');
  const ids = [];
  for (let i = 0; i < 20; i++) {
    await prod.send(JSON.stringify({ payload: b64(`test${i}`), key: String(i), context: String(i) }));
  }
  for (let i = 0; i < 20; i++) {
    const text = await prod.next();
    const r = JSON.parse(text);
    assertEq(r.result, 'ok', `receipt ${i} result`);
    assertEq(text, `{"result":"ok","messageId":"${r.messageId}","context":"${r.context}","errorCode":0,"schemaVersion":0}`, 'receipt text');
    ids[Number(r.context)] = r.messageId;
  }
  const got = [];
  for (let i = 0; i < 20; i++) {
    const m = await cons.nextJson();
    got.push(m);
    await cons.send(JSON.stringify({ messageId: m.messageId }));
  }
  assertEq(got.map((m) => m.messageId), ids, 'consumer ids vs producer receipt ids');
  assertEq(got.map((m) => Buffer.from(m.payload, 'base64').toString()), ids.map((_, i) => `test${i}`), 'payloads');
  assertEq(got.map((m) => m.key), ids.map((_, i) => String(i)), 'keys');
  const rd = await connect(s, topicPath('reader', topic, null, 'messageId=earliest'));
  const rids = [];
  for (let i = 0; i < 20; i++) {
    const m = await rd.nextJson();
    rids.push(m.messageId);
    await rd.send(JSON.stringify({ messageId: m.messageId }));
  }
  assertEq(rids, ids, 'reader ids vs producer ids');
  for (const c of [cons, prod, rd]) c.close();
});

test('fragmented text message gets one correct receipt', async () => {
  const s = await srv();
  const topic = uniq();
  const cons = await connect(s, topicPath('consumer', topic, 'frag'));
  const prod = await connect(s, topicPath('producer', topic));
  const text = JSON.stringify({ payload: b64('fragmented from node'), properties: { via: 'ws' }, context: 'frag-1' });
  const cut1 = 7;
  const cut2 = 30;
  await prod.send(text.slice(0, cut1), { fin: false });
  await prod.send(text.slice(cut1, cut2), { fin: false });
  await prod.send(text.slice(cut2), { fin: true });
  const raw = await prod.next();
  const r = JSON.parse(raw);
  assertEq(raw, `{"result":"ok","messageId":"${r.messageId}","context":"frag-1","errorCode":0,"schemaVersion":0}`, 'receipt text');
  const m = await cons.nextJson();
  assertEq(m.messageId, r.messageId, 'delivered id');
  assertEq(Buffer.from(m.payload, 'base64').toString(), 'fragmented from node', 'delivered payload');
  assertEq(m.properties, { via: 'ws' }, 'properties');
  // Exactly one receipt for the fragmented message.
  let extra = null;
  try { extra = await prod.next(700); } catch { /* expected timeout */ }
  assertEq(extra, null, 'extra frame after the receipt');
  prod.close();
  cons.close();
});

test('ping answered with pong carrying the same payload', async () => {
  const s = await srv();
  const prod = await connect(s, topicPath('producer', uniq()));
  const pong = new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error('no pong within 3 s')), 3000);
    prod.ws.once('pong', (data) => { clearTimeout(t); res(data.toString()); });
  });
  prod.ws.ping(Buffer.from('test'));
  assertEq(await pong, 'test', 'pong payload');
  prod.close();
});

test('http refusals seen by ws: 409 duplicate producerName, 400 bad param', async () => {
  const s = await srv();
  const topic = uniq();
  const p1 = await connect(s, topicPath('producer', topic, null, 'producerName=np'));
  let status = null;
  try { await connect(s, topicPath('producer', topic, null, 'producerName=np')); } catch (e) { status = e.status; }
  assertEq(status, 409, 'second producer with the same name');
  status = null;
  try { await connect(s, topicPath('consumer', topic, 'x', 'subscriptionType=shared')); } catch (e) { status = e.status; }
  assertEq(status, 400, 'subscriptionType=shared');
  p1.close();
});

test('session stays open after send errors', async () => {
  const s = await srv();
  const prod = await connect(s, topicPath('producer', uniq()));
  await prod.send('not json');
  const r3 = await prod.nextJson();
  assertEq(r3.result, 'send-error:3', 'unparseable JSON');
  assert(!('context' in r3), 'send-error:3 has no context');
  await prod.send(JSON.stringify({ payload: '***', context: 'c7' }));
  const r7 = await prod.nextJson();
  assertEq([r7.result, r7.context], ['send-error:7', 'c7'], 'bad base64');
  await prod.send(JSON.stringify({ payload: b64('ok'), context: 'ok' }));
  const ok = await prod.nextJson();
  assertEq([ok.result, ok.context], ['ok', 'ok'], 'publish after errors');
  prod.close();
});

await run();
