// The authorization matrix (test/api/authzMatrix.ts) against the service: every operation of both versions,
// every kind of caller, each cell against a fixture of its own (a world per operation, a fresh flow per
// cell), all through signed requests as a client sends them. docs/security.md renders the same table;
// regenerate it with `UPDATE_DOCS=1 npx vitest run test/api/authz.test.ts`.
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPERATIONS } from '../../src/api/operations/index.js';
import { API_VERSIONS } from '../../src/api/versions.js';
import { addUser } from '../../src/service/identity.js';
import { driver } from '../helpers/drive.js';
import { getToken, signHeaders } from '../helpers/auth.js';
import { makeWorld, type World } from '../helpers/world.js';
import { CALLERS, ENTRIES, fixtureFlowJson, matrixRows, registryKeys, renderMatrix, type CallerKind, type Entry, type Expected, type Fixture, type Request, type Version } from './authzMatrix.js';

const DOC = new URL('../../docs/security.md', import.meta.url);
const START = '<!-- matrix:start -->';
const END = '<!-- matrix:end -->';

type Who = 'admin' | 'bob' | 'vic' | 'lou' | 'eve' | 'oda';
type AppName = 'default' | 'other';

interface Answer extends Expected {
  msg: string;
}

/** Signed calls into one world, timestamps on its clock (never the same twice), tokens fetched as needed. */
class Client {
  private tick = 0;
  private readonly tokens = new Map<AppName, { token: string; until: number }>();
  readonly users: Record<Who, { id: string; orgId: string }>;

  constructor(readonly w: World) {
    this.users = { ...w.users, oda: { id: 'u-oda', orgId: 'o-default' } };
  }

  timestamp(): number {
    return this.w.clock.now() + this.tick++;
  }

  creds(app: AppName) {
    return this.w.apps![app];
  }

  async token(app: AppName): Promise<string> {
    const now = this.w.clock.now();
    const have = this.tokens.get(app);
    if (have && have.until > now) return have.token;
    const token = await getToken(this.w.app, this.creds(app), this.timestamp());
    // The service hands the same token back while it has more than a minute left.
    this.tokens.set(app, { token, until: now + (this.w.config.tokenTtlSec - 120) * 1000 });
    return token;
  }

  /** The URL and body text of `req` for operation `op` of `version`, acting for `who`. */
  wire(version: Version, opName: string, who: Who, req: Request): { method: 'GET' | 'POST'; url: string; body: string | undefined } {
    const op = OPERATIONS.find((o) => o.name === opName)!;
    const spec = API_VERSIONS.find((v) => v.name === version)!;
    const u = this.users[who];
    const q = new URLSearchParams({ action: op.action, userId: u.id, orgId: u.orgId });
    for (const [k, v] of Object.entries(req.query ?? {})) q.set(k, String(v));
    return { method: op.method, url: `${spec.prefix}/${op.resource}?${q}`, body: op.method === 'POST' ? JSON.stringify(req.body ?? {}) : undefined };
  }

  async send(version: Version, wire: { method: 'GET' | 'POST'; url: string; body: string | undefined }, headers: Record<string, string>): Promise<Answer & { data: unknown }> {
    const h = { ...headers, ...(wire.body === undefined ? {} : { 'content-type': 'application/json;charset=UTF-8' }) };
    const res = await this.w.app.inject({ method: wire.method, url: wire.url, headers: h, ...(wire.body === undefined ? {} : { payload: wire.body }) });
    // An event stream (the live log) answered: code 0, its text as the data.
    if (res.statusCode === 200 && String(res.headers['content-type']).startsWith('text/event-stream')) return { code: 0, msg: 'OK', data: res.body };
    const env = res.json() as Record<string, unknown>;
    // The version's envelope: V2.0 answers `status`, V2.1 `code`; the other field must be absent.
    const [field, other] = version === 'v2.0' ? ['status', 'code'] : ['code', 'status'];
    const code = other in env ? NaN : (env[field] as number);
    return { code, ...(res.statusCode === 200 ? {} : { http: res.statusCode }), msg: String(env.msg), data: env.data };
  }

  async headers(wire: { url: string; body: string | undefined }, app: AppName, o: { secret?: string; token?: string } = {}): Promise<Record<string, string>> {
    const token = o.token ?? (await this.token(app));
    return signHeaders(wire.url, wire.body ?? '', { token, secret: o.secret ?? this.creds(app).secretKey, timestamp: this.timestamp() });
  }

  /** A signed call that must succeed; its data. */
  async ok(version: Version, opName: string, who: Who, req: Request): Promise<unknown> {
    const wire = this.wire(version, opName, who, req);
    const a = await this.send(version, wire, await this.headers(wire, 'default'));
    if (a.code !== 0 || a.http !== undefined) throw new Error(`fixture: ${opName} as ${who}: ${JSON.stringify(a)}`);
    return a.data;
  }
}

/** A flow (owners admin;lou;oda, visitor vic) made through the API, and with `run` an instance RUNNING its task a. */
async function makeFixture(c: Client, kind: Entry['fixture'], n: number): Promise<Fixture> {
  const w = c.w;
  const rootDir = (await w.store.getRootDirectory('o-default'))!.id;
  const { flowId } = (await c.ok('v2.1', 'importFlow', 'admin', { body: { flowName: `authz-${n}`, desc: '', dirId: rootDir, flowJson: fixtureFlowJson() } })) as { flowId: number };
  const f = (await c.ok('v2.1', 'getFlow', 'admin', { query: { flowId } })) as Record<string, unknown>;
  const g = JSON.parse(f.graph as string) as { tasks: Array<{ taskName: string; taskId: string }>; flows: unknown; relations: unknown };
  const taskIdA = Number(g.tasks.find((t) => t.taskName === 'a')!.taskId);
  const saveBody = {
    id: f.flowId, type: f.type, name: f.flowName, freq: f.freq, cycle: f.cycle, alertMode: f.alertMode, doAs: f.doAs, owners: f.owner,
    visitors: f.visitor, startTime: f.startTime, active: f.active, parameters: f.parameters, desc: f.desc, queue: f.queue,
    tasks: g.tasks, flows: g.flows, relations: g.relations,
  };
  const now = w.clock.now();
  let instId = '';
  let taskInstIdA = '';
  if (kind === 'run' || kind === 'failed') {
    ({ flowInstanceId: instId } = (await c.ok('v2.1', 'triggerFlow', 'admin', { body: { flowId, triggerTime: now } })) as { flowInstanceId: string });
    taskInstIdA = `${taskIdA}-${instId.split('-')[1]}`;
    const drive = driver(w.store);
    if ((await drive.startInstance(flowId, now)) !== instId) throw new Error('fixture: the instance did not start');
    const runNum = await drive.startTask(taskInstIdA, now);
    if (kind === 'failed') await drive.endTask(taskInstIdA, runNum, 'FAIL', now);
  }
  return { flowId, taskIdA, instId, taskInstIdA, rootDir, now, n, saveBody };
}

/**
 * The owner's request of `entry` as caller kind `kind`, against a fresh fixture. For a user of another
 * organization, also whether the answer shows the fixture (contract §1: existence never leaks).
 */
async function cell(c: Client, version: Version, entry: Entry, kind: CallerKind, n: number): Promise<Answer & { leak?: string }> {
  const fx = await makeFixture(c, entry.fixture, n);
  const got = await ask(c, version, entry, kind, fx);
  if (kind !== 'otherOrg') return got;
  const text = JSON.stringify(got.data ?? null);
  const leak = [[`"authz-${n}"`, 'flow name'], [fx.instId, 'instance id']].find(([s]) => s !== '' && text.includes(s));
  return leak ? { ...got, leak: leak[1] } : got;
}

async function ask(c: Client, version: Version, entry: Entry, kind: CallerKind, fx: Fixture): Promise<Answer & { data: unknown }> {
  const req = entry.request(fx);
  const as = (who: Who) => c.wire(version, entry.op, who, req);
  const own = as('admin');
  switch (kind) {
    case 'owner':
      return c.send(version, own, await c.headers(own, 'default'));
    case 'visitor':
    case 'member':
    case 'locked': {
      const r = as(({ visitor: 'vic', member: 'bob', locked: 'lou' } as const)[kind]);
      return c.send(version, r, await c.headers(r, 'default'));
    }
    case 'otherOrg': {
      const r = as('eve');
      return c.send(version, r, await c.headers(r, 'other'));
    }
    case 'editLocked':
      await c.ok('v2.1', 'loadFlowForEdit', 'oda', { query: { flowId: fx.flowId } });
      return c.send(version, own, await c.headers(own, 'default'));
    case 'unsigned':
      return c.send(version, own, {});
    case 'badSignature':
      return c.send(version, own, await c.headers(own, 'default', { secret: `${c.creds('default').secretKey.slice(1)}x` }));
    case 'replayed': {
      const h = await c.headers(own, 'default');
      const first = await c.send(version, own, h);
      if (first.code !== 0 || first.http !== undefined) throw new Error(`replayed: the first request did not succeed: ${JSON.stringify(first)}`);
      return c.send(version, own, h);
    }
    case 'expiredToken': {
      const token = await c.token('default');
      c.w.clock.advance(c.w.config.tokenTtlSec * 1000 + 1000);
      return c.send(version, own, await c.headers(own, 'default', { token }));
    }
    case 'otherOrgApp':
      return c.send(version, own, await c.headers(own, 'other'));
  }
}

const show = (e: Expected) => (e.http === undefined ? String(e.code) : `${e.http}/${e.code}`);

describe('authorization matrix', () => {
  it('has one row per operation the registry mounts, in each version, and no other', () => {
    expect(matrixRows().map((r) => `${r.version} ${r.entry.op}`).sort()).toEqual(registryKeys().sort());
    expect(new Set(ENTRIES.map((e) => e.op)).size).toBe(ENTRIES.length);
  });

  it('lets the owner do everything: every row has a request that succeeds', () => {
    for (const e of ENTRIES) expect([e.op, e.expect.owner]).toEqual([e.op, { code: 0 }]);
  });

  it('answers every operation x caller with the code of the table', { timeout: 180_000 }, async () => {
    const wrong: string[] = [];
    // A world per operation (both versions), a fresh flow per cell: a world costs ~0.25 s, a cell a few ms.
    for (const entry of ENTRIES) {
      const w = await makeWorld({ auth: true });
      try {
        await addUser(w.store, w.clock, { id: 'u-oda', name: 'oda', orgId: 'o-default' });
        const c = new Client(w);
        let n = 0;
        for (const version of API_VERSIONS.map((v) => v.name as Version).filter((v) => entry.versions.includes(v))) {
          for (const kind of CALLERS) {
            const got = await cell(c, version, entry, kind, n++);
            const want = entry.expect[kind];
            if (got.code !== want.code || got.http !== want.http) wrong.push(`${version} ${entry.op} as ${kind}: expected ${show(want)}, got ${show(got)} (${got.msg})`);
            if (got.leak) wrong.push(`${version} ${entry.op} as ${kind}: the answer shows another organization's ${got.leak}`);
          }
        }
      } finally {
        await w.close();
      }
    }
    expect(wrong).toEqual([]);
  });

  it('is the table docs/security.md shows', () => {
    const doc = readFileSync(DOC, 'utf8');
    const a = doc.indexOf(START);
    const b = doc.indexOf(END);
    expect(a, 'docs/security.md has the matrix markers').toBeGreaterThanOrEqual(0);
    expect(b).toBeGreaterThan(a);
    const want = `${START}\n${renderMatrix()}\n${END}`;
    if (process.env.UPDATE_DOCS === '1') {
      writeFileSync(DOC, doc.slice(0, a) + want + doc.slice(b + END.length));
      return;
    }
    expect(doc.slice(a, b + END.length), 'regenerate: UPDATE_DOCS=1 npx vitest run test/api/authz.test.ts').toBe(want);
  });
});
