// The gateway scheme of contract §9 over WebCrypto, so that one signer works in Node 20+ and in the
// browser (the console): the token request's `encryption` and each request's apim-* headers. The same
// algorithm as src/domain/signature.ts (the service's check, over node:crypto); tests compare the two.
import { paramsData } from '../domain/paramsData.js';

const hex = (buf: ArrayBuffer): string => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');

async function sha256Hex(parts: Array<string | Uint8Array>): Promise<string> {
  const enc = new TextEncoder();
  const chunks = parts.map((p) => (typeof p === 'string' ? enc.encode(p) : p));
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return hex(await globalThis.crypto.subtle.digest('SHA-256', all));
}

/** lowercaseHex(SHA256(appKey + timestamp + appSecret)). */
export const tokenEncryptionWeb = (appKey: string, timestamp: string | number, appSecret: string): Promise<string> => sha256Hex([`${appKey}${timestamp}${appSecret}`]);

/** lowercaseHex(SHA256(accessToken + paramsData(rawQuery) + rawBody + timestamp + appSecret)). */
export const requestSignatureWeb = (p: { accessToken: string; rawQuery: string; rawBody: string | Uint8Array; timestamp: string; appSecret: string }): Promise<string> =>
  sha256Hex([p.accessToken, paramsData(p.rawQuery), p.rawBody, p.timestamp, p.appSecret]);

export interface AppCredentials {
  accessKey: string;
  secretKey: string;
}

export const TOKEN_PATH = '/apim-token-service/v2.0/token/get';

/** Holds an app's token (renewed a minute before it expires, or when the service answers 1203) and signs. */
export class WebSigner {
  private token: { value: string; until: number } | null = null;
  private lastTs = 0;

  constructor(
    private readonly baseUrl: string,
    private readonly creds: AppCredentials,
    private readonly fetchFn: typeof fetch = (...a) => globalThis.fetch(...a),
    private readonly now: () => number = Date.now,
  ) {}

  /** Never the same timestamp twice from one signer: two identical requests in one ms sign differently. */
  private timestamp(): number {
    this.lastTs = Math.max(this.now(), this.lastTs + 1);
    return this.lastTs;
  }

  forgetToken(): void {
    this.token = null;
  }

  async accessToken(): Promise<string> {
    if (this.token && this.token.until > this.now()) return this.token.value;
    const timestamp = this.timestamp();
    const encryption = await tokenEncryptionWeb(this.creds.accessKey, timestamp, this.creds.secretKey);
    const res = await this.fetchFn(new URL(TOKEN_PATH, this.baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ appKey: this.creds.accessKey, encryption, timestamp }),
    });
    const env = (await res.json()) as { status: number; msg: string; data: { accessToken: string; expire: number } | null };
    if (env.status !== 0 || !env.data) throw Object.assign(new Error(`token/get refused (${env.status}): ${env.msg}`), { code: env.status, httpStatus: res.status });
    this.token = { value: env.data.accessToken, until: this.now() + Math.max(0, env.data.expire - 60) * 1000 };
    return env.data.accessToken;
  }

  /** The apim-accesstoken, apim-signature and apim-timestamp headers of one request. */
  async headers(pathAndQuery: string, body = ''): Promise<Record<string, string>> {
    const accessToken = await this.accessToken();
    const q = pathAndQuery.indexOf('?');
    const timestamp = String(this.timestamp());
    const signature = await requestSignatureWeb({ accessToken, rawQuery: q < 0 ? '' : pathAndQuery.slice(q + 1), rawBody: body, timestamp, appSecret: this.creds.secretKey });
    return { 'apim-accesstoken': accessToken, 'apim-signature': signature, 'apim-timestamp': timestamp };
  }
}
