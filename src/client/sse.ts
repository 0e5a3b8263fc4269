// A server-sent-events reader over a fetch body (the stream must be signed, so EventSource, which cannot
// send headers, is no use): splits the text into events of `event`, `id` and `data` lines; comments skipped.
export interface SseMessage {
  event: string;
  id?: string;
  data: string;
}

export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
      let end: number;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        const msg: SseMessage = { event: 'message', data: '' };
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line === '' || line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') msg.event = value;
          else if (field === 'id') msg.id = value;
          else if (field === 'data') data.push(value);
        }
        if (data.length === 0) continue;
        msg.data = data.join('\n');
        yield msg;
      }
    }
  } finally {
    reader.releaseLock();
  }
}
