// The authorization matrix (issue 8): every operation of both API versions against every kind of caller, and
// the answer each gets (contract §1, §2, §9). This one table drives test/api/authz.test.ts and is rendered
// into docs/security.md between `<!-- matrix:start -->` and `<!-- matrix:end -->`; that test fails when the
// two drift apart. After changing the table, regenerate the docs with
//
//   UPDATE_DOCS=1 npx vitest run test/api/authz.test.ts
//
// Every row's request is the owner's valid request; the other columns send that same request as someone
// else, or with its authentication broken, each against a fixture of its own.
import { OPERATIONS } from '../../src/api/operations/index.js';
import { API_VERSIONS } from '../../src/api/versions.js';

export const CALLERS = [
  'owner', 'visitor', 'member', 'otherOrg', 'locked', 'editLocked',
  'unsigned', 'badSignature', 'replayed', 'expiredToken', 'otherOrgApp',
] as const;
export type CallerKind = (typeof CALLERS)[number];

/** Column heading, and what the caller is (the legend under the rendered table). */
export const CALLER_TEXT: Record<CallerKind, { label: string; means: string }> = {
  owner: { label: 'Owner', means: "the flow's creator (admin), signed by an app of its organization" },
  visitor: { label: 'Visitor', means: 'a user the flow names in `visitors`' },
  member: { label: 'Member', means: 'another user of the organization, neither owner nor visitor' },
  otherOrg: { label: 'Other org', means: "a user of another organization, signed by her own organization's app" },
  locked: { label: 'Locked user', means: 'a user whose account an administrator locked; an owner of the flow' },
  editLocked: { label: 'Edit-locked', means: 'the owner, while another owner holds the flow\'s edit lock (Load For Edit)' },
  unsigned: { label: 'Unsigned', means: 'the owner\'s request without the `apim-*` headers' },
  badSignature: { label: 'Bad signature', means: 'the owner\'s request signed with a wrong secret' },
  replayed: { label: 'Replayed', means: 'the owner\'s signed request sent a second time, headers and all' },
  expiredToken: { label: 'Expired token', means: 'the owner\'s request signed anew with a token past its 7200 s' },
  otherOrgApp: { label: 'Other org\'s app', means: 'the owner\'s request signed by an app of another organization' },
};

/** An answer: the envelope's code (`code` in V2.1, `status` in V2.0) and the HTTP status where it is not 200. */
export interface Expected {
  code: number;
  http?: number;
}

export type Cells = Record<CallerKind, Expected>;

const OK: Expected = { code: 0 };
/** Not an owner (contract §2), or an app acting for another organization (§9). */
const NO_PRIVILEGE: Expected = { code: 62103 };
/** Another organization's flow, instance or directory: exactly as a missing one (contract §1). */
const NOT_FOUND: Expected = { code: 62102 };
const ACCOUNT_LOCKED: Expected = { code: 62105 };
const EDIT_LOCKED: Expected = { code: 62106 };

/** Every signed operation, whatever it does: authentication is decided before anything else (contract §9). */
const SIGNED = {
  unsigned: { http: 401, code: 1202 },
  badSignature: { http: 401, code: 1003 },
  replayed: { http: 401, code: 1001 },
  expiredToken: { http: 401, code: 1203 },
  otherOrgApp: NO_PRIVILEGE,
} satisfies Partial<Cells>;

/** Public operations (`/time`) check no signature and no identity: everybody gets the answer. */
const PUBLIC: Cells = {
  owner: OK, visitor: OK, member: OK, otherOrg: OK, locked: OK, editLocked: OK,
  unsigned: OK, badSignature: OK, replayed: OK, expiredToken: OK, otherOrgApp: OK,
};

/** What a request may refer to: the fixture of its cell. */
export interface Fixture {
  /** A flow of tasks a -> b created by admin, owners `admin;lou;oda`, visitors `vic`. */
  flowId: number;
  taskIdA: number;
  /** With fixture `run`: an instance of the flow, RUNNING, its task a RUNNING with an attempt log; `failed`: that instance ended FAIL (its task a failed). */
  instId: string;
  taskInstIdA: string;
  /** Root directory of o-default. */
  rootDir: string;
  /** The service clock when the fixture was made. */
  now: number;
  /** A number unique in the world (names that must not collide). */
  n: number;
  /** The Save Flow body of the flow unchanged: its fields and graph as Get Flow shows them. */
  saveBody: Record<string, unknown>;
}

export interface Request {
  query?: Record<string, string | number>;
  body?: unknown;
}

export type Version = 'v2.1' | 'v2.0';
const BOTH: readonly Version[] = ['v2.1', 'v2.0'];
const HOUR = 3_600_000;

export interface Entry {
  /** The operation's name in the registry (src/api/operations). */
  op: string;
  versions: readonly Version[];
  /** `flow`: the flow alone; `run`: the flow with a running instance (Delete refuses those, so it has `flow`). */
  fixture: 'flow' | 'run' | 'failed';
  request(fx: Fixture): Request;
  expect: Cells;
}

export const ENTRIES: Entry[] = [
  // --- /flows: reads (any member; another org: not found) ---
  {
    op: 'getFlow', versions: BOTH, fixture: 'flow',
    request: (fx) => ({ query: { flowId: fx.flowId } }),
    expect: { owner: OK, visitor: OK, member: OK, otherOrg: NOT_FOUND, locked: OK, editLocked: OK, ...SIGNED },
  },
  {
    op: 'exportFlow', versions: BOTH, fixture: 'flow',
    request: (fx) => ({ query: { flowId: fx.flowId } }),
    expect: { owner: OK, visitor: OK, member: OK, otherOrg: NOT_FOUND, locked: OK, editLocked: OK, ...SIGNED },
  },
  {
    // Lists what the caller's organization has: another org's user gets her own (empty) list.
    op: 'getMyFlow', versions: BOTH, fixture: 'flow',
    request: () => ({}),
    expect: { owner: OK, visitor: OK, member: OK, otherOrg: OK, locked: OK, editLocked: OK, ...SIGNED },
  },
  {
    op: 'searchFlow', versions: BOTH, fixture: 'flow',
    request: () => ({ body: {} }),
    expect: { owner: OK, visitor: OK, member: OK, otherOrg: OK, locked: OK, editLocked: OK, ...SIGNED },
  },
  // --- /flows: versions (extensions, V2.1): reads, as Get Flow ---
  {
    op: 'listFlowVersions', versions: ['v2.1'], fixture: 'flow',
    request: (fx) => ({ query: { flowId: fx.flowId } }),
    expect: { owner: OK, visitor: OK, member: OK, otherOrg: NOT_FOUND, locked: OK, editLocked: OK, ...SIGNED },
  },
  {
    op: 'getFlowVersion', versions: ['v2.1'], fixture: 'flow',
    request: (fx) => ({ query: { flowId: fx.flowId, version: 1 } }),
    expect: { owner: OK, visitor: OK, member: OK, otherOrg: NOT_FOUND, locked: OK, editLocked: OK, ...SIGNED },
  },
  {
    op: 'compareFlowVersions', versions: ['v2.1'], fixture: 'flow',
    request: (fx) => ({ query: { flowId: fx.flowId, from: 1, to: 1 } }),
    expect: { owner: OK, visitor: OK, member: OK, otherOrg: NOT_FOUND, locked: OK, editLocked: OK, ...SIGNED },
  },
  // --- /flows: Load For Edit takes the edit lock, so it is owner-only and a write (contract §2) ---
  {
    op: 'loadFlowForEdit', versions: BOTH, fixture: 'flow',
    request: (fx) => ({ query: { flowId: fx.flowId } }),
    expect: { owner: OK, visitor: NO_PRIVILEGE, member: NO_PRIVILEGE, otherOrg: NOT_FOUND, locked: ACCOUNT_LOCKED, editLocked: EDIT_LOCKED, ...SIGNED },
  },
  // --- /flows: writes to no existing flow (any member may create; another org's directory: not found) ---
  {
    op: 'importFlow', versions: BOTH, fixture: 'flow',
    request: (fx) => ({ body: { flowName: `imported-${fx.n}`, desc: '', dirId: fx.rootDir, flowJson: { name: 'x', type: 0, cron: '', parameters: '[]', owners: '', visitors: '', tasks: [{ name: 'a', type: 'SHELL', cmd: 'exit 0' }], relations: [] } } }),
    expect: { owner: OK, visitor: OK, member: OK, otherOrg: NOT_FOUND, locked: ACCOUNT_LOCKED, editLocked: OK, ...SIGNED },
  },
  // --- /flows: writes to the flow (owners; another user's edit lock: 62106) ---
  {
    op: 'saveFlow', versions: BOTH, fixture: 'flow',
    request: (fx) => ({ body: fx.saveBody }),
    expect: { owner: OK, visitor: NO_PRIVILEGE, member: NO_PRIVILEGE, otherOrg: NOT_FOUND, locked: ACCOUNT_LOCKED, editLocked: EDIT_LOCKED, ...SIGNED },
  },
  {
    op: 'deleteFlow', versions: BOTH, fixture: 'flow',
    request: (fx) => ({ query: { flowId: fx.flowId } }),
    expect: { owner: OK, visitor: NO_PRIVILEGE, member: NO_PRIVILEGE, otherOrg: NOT_FOUND, locked: ACCOUNT_LOCKED, editLocked: EDIT_LOCKED, ...SIGNED },
  },
  {
    op: 'enableFlow', versions: BOTH, fixture: 'flow',
    request: (fx) => ({ body: { flowId: fx.flowId } }),
    expect: { owner: OK, visitor: NO_PRIVILEGE, member: NO_PRIVILEGE, otherOrg: NOT_FOUND, locked: ACCOUNT_LOCKED, editLocked: EDIT_LOCKED, ...SIGNED },
  },
  {
    op: 'disableFlow', versions: BOTH, fixture: 'flow',
    request: (fx) => ({ body: { flowId: fx.flowId } }),
    expect: { owner: OK, visitor: NO_PRIVILEGE, member: NO_PRIVILEGE, otherOrg: NOT_FOUND, locked: ACCOUNT_LOCKED, editLocked: EDIT_LOCKED, ...SIGNED },
  },
  {
    op: 'triggerFlow', versions: BOTH, fixture: 'run',
    request: (fx) => ({ body: { flowId: fx.flowId, triggerTime: fx.now + HOUR } }),
    expect: { owner: OK, visitor: NO_PRIVILEGE, member: NO_PRIVILEGE, otherOrg: NOT_FOUND, locked: ACCOUNT_LOCKED, editLocked: EDIT_LOCKED, ...SIGNED },
  },
  {
    op: 'updateAndTriggerFlow', versions: BOTH, fixture: 'run',
    request: (fx) => ({ body: { flowId: fx.flowId, triggerTime: fx.now + HOUR, parameters: [] } }),
    expect: { owner: OK, visitor: NO_PRIVILEGE, member: NO_PRIVILEGE, otherOrg: NOT_FOUND, locked: ACCOUNT_LOCKED, editLocked: EDIT_LOCKED, ...SIGNED },
  },
  {
    op: 'triggerFlowFromTask', versions: ['v2.1'], fixture: 'run',
    request: (fx) => ({ body: { flowId: fx.flowId, taskId: fx.taskIdA, triggerTime: fx.now + HOUR } }),
    expect: { owner: OK, visitor: NO_PRIVILEGE, member: NO_PRIVILEGE, otherOrg: NOT_FOUND, locked: ACCOUNT_LOCKED, editLocked: EDIT_LOCKED, ...SIGNED },
  },
  {
    op: 'backfillFlow', versions: ['v2.1'], fixture: 'flow',
    request: (fx) => ({ body: { flowId: fx.flowId, fromTime: fx.now - 3 * HOUR, toTime: fx.now, cron: '0 0 * * * ? *' } }),
    expect: { owner: OK, visitor: NO_PRIVILEGE, member: NO_PRIVILEGE, otherOrg: NOT_FOUND, locked: ACCOUNT_LOCKED, editLocked: EDIT_LOCKED, ...SIGNED },
  },
  // --- /flowInstances ---
  {
    op: 'getFlowInstance', versions: BOTH, fixture: 'run',
    request: (fx) => ({ query: { flowInstId: fx.instId } }),
    expect: { owner: OK, visitor: OK, member: OK, otherOrg: NOT_FOUND, locked: OK, editLocked: OK, ...SIGNED },
  },
  {
    op: 'searchFlowInstances', versions: BOTH, fixture: 'run',
    request: (fx) => ({ body: { type: 0, owner: '', expression: '', status: '', fromTriggerTime: fx.now - HOUR, toTriggerTime: fx.now + HOUR } }),
    expect: { owner: OK, visitor: OK, member: OK, otherOrg: OK, locked: OK, editLocked: OK, ...SIGNED },
  },
  {
    op: 'cancelFlowInstance', versions: BOTH, fixture: 'run',
    request: (fx) => ({ body: { flowInstId: fx.instId } }),
    expect: { owner: OK, visitor: NO_PRIVILEGE, member: NO_PRIVILEGE, otherOrg: NOT_FOUND, locked: ACCOUNT_LOCKED, editLocked: EDIT_LOCKED, ...SIGNED },
  },
  {
    op: 'rerunFlowInstance', versions: ['v2.1'], fixture: 'failed',
    request: (fx) => ({ body: { flowInstId: fx.instId, mode: 'failed' } }),
    expect: { owner: OK, visitor: NO_PRIVILEGE, member: NO_PRIVILEGE, otherOrg: NOT_FOUND, locked: ACCOUNT_LOCKED, editLocked: EDIT_LOCKED, ...SIGNED },
  },
  // --- /taskInstances ---
  {
    op: 'getTaskInstance', versions: ['v2.1'], fixture: 'run',
    request: (fx) => ({ query: { taskInstId: fx.taskInstIdA } }),
    expect: { owner: OK, visitor: OK, member: OK, otherOrg: NOT_FOUND, locked: OK, editLocked: OK, ...SIGNED },
  },
  {
    op: 'getTaskInstanceLog', versions: BOTH, fixture: 'run',
    request: (fx) => ({ query: { taskInstId: fx.taskInstIdA } }),
    expect: { owner: OK, visitor: OK, member: OK, otherOrg: NOT_FOUND, locked: OK, editLocked: OK, ...SIGNED },
  },
  {
    // follow=false: the log there is now, then the end (a followed stream of a running task never ends).
    op: 'streamTaskInstanceLog', versions: ['v2.1'], fixture: 'run',
    request: (fx) => ({ query: { taskInstId: fx.taskInstIdA, follow: 'false' } }),
    expect: { owner: OK, visitor: OK, member: OK, otherOrg: NOT_FOUND, locked: OK, editLocked: OK, ...SIGNED },
  },
  // --- /directories ---
  {
    op: 'listWorkFlowDirs', versions: BOTH, fixture: 'flow',
    request: () => ({}),
    expect: { owner: OK, visitor: OK, member: OK, otherOrg: OK, locked: OK, editLocked: OK, ...SIGNED },
  },
  {
    op: 'createDirectory', versions: BOTH, fixture: 'flow',
    request: (fx) => ({ body: { parentId: fx.rootDir, dirName: `dir-${fx.n}` } }),
    expect: { owner: OK, visitor: OK, member: OK, otherOrg: NOT_FOUND, locked: ACCOUNT_LOCKED, editLocked: OK, ...SIGNED },
  },
  // --- /time: public ---
  { op: 'getCurrentTime', versions: BOTH, fixture: 'flow', request: () => ({}), expect: PUBLIC },
  { op: 'getTimeZone', versions: BOTH, fixture: 'flow', request: () => ({}), expect: PUBLIC },
];

/** The flowJson every fixture flow is imported from. */
export function fixtureFlowJson(): Record<string, unknown> {
  return {
    name: 'authz', type: 0, cron: '', parameters: '[]', owners: 'lou;oda', visitors: 'vic',
    tasks: [{ name: 'a', type: 'SHELL', cmd: 'exit 0' }, { name: 'b', type: 'SHELL', cmd: 'exit 0' }],
    relations: [{ sourceTaskName: 'a', targetTaskName: 'b', rerun: true }],
  };
}

export interface Row {
  version: Version;
  entry: Entry;
}

/** One row per (version, operation), in the order of API_VERSIONS and then of the table. */
export function matrixRows(): Row[] {
  return API_VERSIONS.flatMap((v) => ENTRIES.filter((e) => e.versions.includes(v.name as Version)).map((entry) => ({ version: v.name as Version, entry })));
}

/** (version, operation name) of every operation the registry mounts, as `v2.1 getFlow`. */
export function registryKeys(): string[] {
  return API_VERSIONS.flatMap((v) => OPERATIONS.filter((op) => !op.versions || op.versions.includes(v.name)).map((op) => `${v.name} ${op.name}`));
}

function cellText(e: Expected): string {
  return e.http === undefined ? String(e.code) : `${e.http} · ${e.code}`;
}

function opOf(name: string) {
  const op = OPERATIONS.find((o) => o.name === name);
  if (!op) throw new Error(`authz matrix: no operation ${name} in the registry`);
  return op;
}

/** The table as Markdown, with its legend: what docs/security.md holds between its matrix markers. */
export function renderMatrix(): string {
  const head = ['Version', 'Operation', ...CALLERS.map((c) => CALLER_TEXT[c].label)];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const { version, entry } of matrixRows()) {
    const op = opOf(entry.op);
    const name = `\`${op.method} /${op.resource}?action=${op.action}\``;
    lines.push(`| ${version === 'v2.1' ? 'V2.1' : 'V2.0'} | ${name} | ${CALLERS.map((c) => cellText(entry.expect[c])).join(' | ')} |`);
  }
  const legend = [
    '',
    'A cell is the envelope code (`code` in V2.1, `status` in V2.0), with the HTTP status before it where that is',
    'not 200: 0 success, 62102 not found (another organization\'s objects answer exactly as missing ones), 62103 no',
    'privilege, 62105 account locked, 62106 locked for editing by another user; 401 with 1202 missing `apim-*`',
    'header, 1003 bad signature, 1001 replayed signature, 1203 unknown or expired token. Every column sends the',
    'owner\'s valid request, as:',
    '',
    ...CALLERS.map((c) => `- **${CALLER_TEXT[c].label}**: ${CALLER_TEXT[c].means}.`),
  ];
  return [...lines, ...legend].join('\n');
}
