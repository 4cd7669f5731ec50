// close-codes.test.mjs - server close codes as seen by the npm `ws` client (ctest node-close-codes).
//
// RFC 6455 close codes must reach a real client: invalid UTF-8 in a text message -> 1007, a
// message over webSocketMaxTextFrameSize -> 1009 (single frame and fragmented), a malformed
// consumer command -> 1002, an ack without messageId -> 1011, idle timeout closes the session;
// and the server keeps serving new clients afterwards.

import { startServer, connect, topicPath, uniq, b64, assert, assertEq, test, run } from './harness.mjs';

let shared = null;
async function srv() {
  if (!shared || shared.proc.exitCode !== null) shared = await startServer(['-o', 'webSocketMaxTextFrameSize=4096'], { keep: true });
  return shared;
}

async function stillServing(s) {
  const p = await connect(s, topicPath('producer', uniq()));
  await p.send(JSON.stringify({ payload: b64('alive'), context: 'alive' }));
  const r = await p.nextJson();
  assertEq(r.result, 'ok', 'publish on a new session afterwards');
  p.close();
}

test('invalid UTF-8 text -> 1007', async () => {
  const s = await srv();
  const p = await connect(s, topicPath('producer', uniq()));
  const bad = Buffer.concat([Buffer.from('{"payload":"eA==","context":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
  p.ws.send(bad, { binary: false });
  const { code } = await p.waitClose();
  assertEq(code, 1007, 'close code for invalid UTF-8');
  await stillServing(s);
});

test('over-size text frame -> 1009', async () => {
  const s = await srv();
  const p = await connect(s, topicPath('producer', uniq()));
  p.ws.send(JSON.stringify({ payload: 'A'.repeat(6000) }));
  const { code } = await p.waitClose();
  assertEq(code, 1009, 'close code for a 6 KB frame with webSocketMaxTextFrameSize=4096');
  await stillServing(s);
});

test('over-size fragmented message -> 1009', async () => {
  const s = await srv();
  const p = await connect(s, topicPath('producer', uniq()));
  const part = 'A'.repeat(1500);
  p.ws.send('{"payload":"' + part, { fin: false });
  p.ws.send(part, { fin: false });
  p.ws.send(part + '"}', { fin: true });
  const { code } = await p.waitClose();
  assertEq(code, 1009, 'close code for a 4.5 KB fragmented message with limit 4096');
  await stillServing(s);
});

test('message at the limit is accepted', async () => {
  const s = await srv();
  const p = await connect(s, topicPath('producer', uniq()));
  const base = JSON.stringify({ payload: b64('q'.repeat(2000)), context: 'edge' });
  await p.send(base + ' '.repeat(4096 - Buffer.byteLength(base)));
  const r = await p.nextJson();
  assertEq(r.result, 'ok', '4096-byte message with limit 4096');
  p.close();
});

test('malformed consumer command -> 1002, ack without messageId -> 1011', async () => {
  const s = await srv();
  const topic = uniq();
  const c1 = await connect(s, topicPath('consumer', topic, 'a'));
  await c1.send('definitely not json');
  assertEq((await c1.waitClose()).code, 1002, 'close code for a non-JSON consumer command');
  const c2 = await connect(s, topicPath('consumer', topic, 'b'));
  await c2.send('{}');
  assertEq((await c2.waitClose()).code, 1011, 'close code for an ack without messageId');
  const c3 = await connect(s, topicPath('consumer', topic, 'c'));
  await c3.send('{"messageId":"%%%"}');
  assertEq((await c3.waitClose()).code, 1011, 'close code for a non-base64 messageId');
  await stillServing(s);
});

test('idle session closed by the server', async () => {
  const s = await startServer(['-o', 'webSocketSessionIdleTimeoutMillis=800']);
  const p = await connect(s, topicPath('producer', uniq()));
  const t0 = Date.now();
  const { code } = await p.waitClose(4000);
  const dt = Date.now() - t0;
  assert(dt >= 500, `closed after ${dt} ms, before the 800 ms idle timeout`);
  assert(code === 1001 || code === 1000, `idle close code ${code} (expected 1001 or 1000)`);
});

await run();
