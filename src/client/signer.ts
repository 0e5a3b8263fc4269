// A client of the gateway scheme (contract §9): gets an access token for an app's key and secret, signs
// every request over its query and the exact body bytes it sends, and gets a new token once when the
// service answers 1203 (expired). `batchflow call`, the tests and the SDK to come sign through this.
import { requestSignature, tokenEncryption } from '../domain/signature.js';

export interface Credentials {
  accessKey: string;
  secretKey: string;
}

export interface SignedResponse {
  status: number;
  text: string;
  headers: Headers;
}

export const TOKEN_PATH = '/apim-token-service/v2.0/token/get';

export class SignedClient {
  private token: { value: string; until: number } | null = null;
  private lastTs = 0;

  constructor(
    readonly baseUrl: string,
    private readonly creds: Credentials,
    private readonly now: () => number = Date.now,
  ) {}

  /** A timestamp never equal to this client's previous one: two identical requests in one ms sign differently. */
  private timestamp(): string {
    this.lastTs = Math.max(this.now(), this.lastTs + 1);
    return String(this.lastTs);
  }

  async accessToken(): Promise<string> {
    if (this.token && this.token.until > this.now()) return this.token.value;
    const timestamp = Number(this.timestamp());
    const body = JSON.stringify({ appKey: this.creds.accessKey, encryption: tokenEncryption(this.creds.accessKey, timestamp, this.creds.secretKey), timestamp });
    const res = await fetch(new URL(TOKEN_PATH, this.baseUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const env = (await res.json()) as { status: number; msg: string; data: { accessToken: string; expire: number } | null };
    if (env.status !== 0 || !env.data) throw new Error(`token/get refused (${env.status}): ${env.msg}`);
    // Renewed a minute early: a request signed just before expiry still arrives in time.
    this.token = { value: env.data.accessToken, until: this.now() + Math.max(0, env.data.expire - 60) * 1000 };
    return env.data.accessToken;
  }

  /** Sends `method pathAndQuery` (e.g. `/batch-processing-service/v2.1/flows?action=get&...`) signed. */
  async request(method: string, pathAndQuery: string, body?: string): Promise<SignedResponse> {
    let res = await this.send(method, pathAndQuery, body);
    if (res.status === 401 && /"(code|status)":1203\b/.test(res.text)) {
      this.token = null;
      res = await this.send(method, pathAndQuery, body);
    }
    return res;
  }

  /** The three apim-* headers of a request (for callers with their own HTTP client). */
  async sign(pathAndQuery: string, body = ''): Promise<Record<string, string>> {
    const accessToken = await this.accessToken();
    const q = pathAndQuery.indexOf('?');
    const timestamp = this.timestamp();
    const signature = requestSignature({ accessToken, rawQuery: q < 0 ? '' : pathAndQuery.slice(q + 1), rawBody: body, timestamp, appSecret: this.creds.secretKey });
    return { 'apim-accesstoken': accessToken, 'apim-signature': signature, 'apim-timestamp': timestamp };
  }

  private async send(method: string, pathAndQuery: string, body?: string): Promise<SignedResponse> {
    const headers: Record<string, string> = await this.sign(pathAndQuery, body ?? '');
    if (body !== undefined) headers['content-type'] = 'application/json;charset=UTF-8';
    const res = await fetch(new URL(pathAndQuery, this.baseUrl), { method, headers, body });
    return { status: res.status, text: await res.text(), headers: res.headers };
  }
}
