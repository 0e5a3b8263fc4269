// A client of the gateway scheme (contract §9) with raw answers: each request signed over its query and
// the exact body bytes it sends, a new token once when the service answers 1203 (expired). `batchflow
// call` and the tests use it; the token and the signatures are WebSigner's (webSigner.ts), as the SDK's.
import { TOKEN_PATH, WebSigner, type AppCredentials } from './webSigner.js';

export type Credentials = AppCredentials;
export { TOKEN_PATH };

export interface SignedResponse {
  status: number;
  text: string;
  headers: Headers;
}

export class SignedClient {
  private readonly signer: WebSigner;

  constructor(
    readonly baseUrl: string,
    creds: Credentials,
    now: () => number = Date.now,
  ) {
    this.signer = new WebSigner(baseUrl, creds, undefined, now);
  }

  accessToken(): Promise<string> {
    return this.signer.accessToken();
  }

  /** Sends `method pathAndQuery` (e.g. `/batch-processing-service/v2.1/flows?action=get&...`) signed. */
  async request(method: string, pathAndQuery: string, body?: string): Promise<SignedResponse> {
    let res = await this.send(method, pathAndQuery, body);
    if (res.status === 401 && /"(code|status)":1203\b/.test(res.text)) {
      this.signer.forgetToken();
      res = await this.send(method, pathAndQuery, body);
    }
    return res;
  }

  /** The three apim-* headers of a request (for callers with their own HTTP client). */
  sign(pathAndQuery: string, body = ''): Promise<Record<string, string>> {
    return this.signer.headers(pathAndQuery, body);
  }

  private async send(method: string, pathAndQuery: string, body?: string): Promise<SignedResponse> {
    const headers: Record<string, string> = await this.sign(pathAndQuery, body ?? '');
    if (body !== undefined) headers['content-type'] = 'application/json;charset=UTF-8';
    const res = await fetch(new URL(pathAndQuery, this.baseUrl), { method, headers, body });
    return { status: res.status, text: await res.text(), headers: res.headers };
  }
}
