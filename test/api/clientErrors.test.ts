// What Node's HTTP parser refuses before any route sees it still gets the envelope: a malformed request
// (400) and headers or a URL over the limit (431), each with a JSON body naming the cause, then the
// connection closes and the server goes on answering.
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

it.each([
  ['a header line without a colon', 'GET /batch-processing-service/v2.1/flows?action=get HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n', 400, /^Malformed HTTP request: HPE_/],
  ['a broken request line', 'GARBAGE\r\n\r\n', 400, /^Malformed HTTP request: HPE_/],
  ['headers over 16 KiB', `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, /^Request headers or URL too large: the limit is 16384 bytes/],
  ['a URL over 16 KiB', `GET /${'u'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 431, /^Request headers or URL too large/],
])('%s: HTTP %i with the envelope', async (_name, request, status, msg) => {
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
