// What Node's HTTP parser refuses before any route sees it still gets the envelope: a malformed request
// (400) and headers or a URL over the limit (431), each with a JSON body naming the cause, then the
// connection closes and the server goes on answering. So do a path fastify's router cannot decode and what
// Node's HTTP server answers itself (no Host, an unknown Expect, CONNECT).
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startInProcess, type InProcess } from '../engine/harness.js';

let h: InProcess;
beforeAll(async () => {
  h = await startInProcess({ runEngine: false });
});
afterAll(() => h.close());

/** Writes raw bytes and reads until the server closes the connection. */
function raw(request: string): Promise<{ status: number; headers: string; body: string }> {
  const { port } = new URL(h.server.url);
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(port), '127.0.0.1', () => s.write(request));
    let data = '';
    s.on('data', (d) => (data += d.toString()));
    s.on('error', reject);
    s.on('close', () => {
      const [head, ...rest] = data.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), headers: head, body: rest.join('\r\n\r\n') });
    });
  });
}

const V20 = '/dataflow-batch-service/v2.0';

it.each([
  ['a header line without a colon', 'GET /batch-processing-service/v2.1/flows?action=get HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n', 400, /^Malformed HTTP request: HPE_/],
  ['a broken request line', 'GARBAGE\r\n\r\n', 400, /^Malformed HTTP request: HPE_/],
  ['headers over 16 KiB', `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, /^Request headers or URL too large: the limit is 16384 bytes/],
  ['a URL over 16 KiB', `GET /${'u'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 431, /^Request headers or URL too large/],
  // A chunked body broken after the headers: the connection was closed unanswered.
  ['a broken chunked body', 'POST /batch-processing-service/v2.1/flows?action=trigger&userId=u-admin&orgId=o-default HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400, /^Malformed HTTP request: HPE_INVALID_CHUNK_SIZE$/],
  // Node's own answers, before fastify: 400 without a body (no Host), 417 without a body (Expect), none (CONNECT).
  ['an HTTP/1.1 request without Host', 'GET /batch-processing-service/v2.1/time?action=getCurrentTime HTTP/1.1\r\nConnection: close\r\n\r\n', 400, /^Malformed HTTP request: an HTTP\/1\.1 request needs a Host header$/],
  ['an Expect other than 100-continue', 'POST /batch-processing-service/v2.1/flows?action=trigger HTTP/1.1\r\nHost: x\r\nExpect: tea\r\nContent-Length: 2\r\n\r\n{}', 400, /^Malformed HTTP request: Expect "tea" is not supported \(only 100-continue\)$/],
  ['CONNECT', 'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n', 400, /^Malformed HTTP request: CONNECT is not supported$/],
  // fastify's router refuses these before any route (FST_ERR_BAD_URL): they had fastify's own JSON.
  ['a path that is not valid percent-encoding', 'GET /batch-processing-service/v2.1/flows%zz?action=get HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 400, /^Malformed HTTP request: the path is not valid percent-encoding: \/batch-processing-service\/v2\.1\/flows%zz$/],
])('%s: the error status with the envelope', async (_name, request, status, msg) => {
  const r = await raw(request);
  expect(r.status).toBe(status);
  expect(r.headers).toMatch(/content-type: application\/json/i);
  const env = JSON.parse(r.body);
  expect(env).toMatchObject({ code: 62102, data: null, requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
  expect(env.msg).toMatch(msg);
  // Still serving.
  const ok = await fetch(`${h.server.url}/batch-processing-service/v2.1/directories?action=listWorkFlowDirs&userId=u-admin&orgId=o-default`);
  expect((await ok.json()).code).toBe(0);
});

// A V2.0 client reads `status`: what the parser or the router refuses on a V2.0 path has the V2.0 envelope.
it.each([
  ['headers over 16 KiB', `GET ${V20}/flows?action=get HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
  ['a URL over 16 KiB', `GET ${V20}/flows?action=get&x=${'u'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 431],
  ['a header line without a colon', `POST ${V20}/flows?action=trigger HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n`, 400],
  ['a path that is not valid percent-encoding', `GET ${V20}/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, 400],
  ['an HTTP/1.1 request without Host', `GET ${V20}/time?action=getCurrentTime HTTP/1.1\r\nConnection: close\r\n\r\n`, 400],
  ['an Expect other than 100-continue', `POST ${V20}/flows?action=trigger HTTP/1.1\r\nHost: x\r\nExpect: tea\r\nContent-Length: 2\r\n\r\n{}`, 400],
])('on a V2.0 path, %s: the error status with the V2.0 envelope', async (_name, request, status) => {
  const r = await raw(request);
  expect(r.status).toBe(status);
  const env = JSON.parse(r.body);
  expect(Object.keys(env).sort()).toEqual(['data', 'msg', 'requestId', 'status']);
  expect(env).toMatchObject({ status: 62102, data: null });
});

it('still serves HTTP/1.0 without Host, and 100-continue', async () => {
  const old = await raw('GET /batch-processing-service/v2.1/time?action=getCurrentTime HTTP/1.0\r\n\r\n');
  expect([old.status, JSON.parse(old.body).code]).toEqual([200, 0]);
  const cont = await raw('POST /batch-processing-service/v2.1/flows?action=trigger&userId=u-admin&orgId=o-default HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}');
  expect(cont.headers).toMatch(/^HTTP\/1\.1 100 Continue/);
  expect(cont.body).toMatch(/"code":62102,"msg":"Missing parameter: flowId"/);
});
