// Organizations and users: first-start bootstrap, the admin CLI's verbs, and resolving the caller of an
// API request. Each validates its input and throws DomainError with a message naming the field.
import { DomainError, DuplicateKeyError, invalid, notFound } from '../domain/errors.js';
import type { Clock } from '../domain/clock.js';
import type { User } from '../domain/types.js';
import { EMAIL, isPhone } from '../domain/alerts.js';
import type { Store } from '../store/store.js';

export const DEFAULT_ORG = { id: 'o-default', name: 'Default organization' } as const;
export const DEFAULT_ADMIN = { id: 'u-admin', name: 'admin', orgId: DEFAULT_ORG.id } as const;

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
// User names appear in `;`-separated owner lists: no separators, no spaces.
const USER_NAME = /^[A-Za-z0-9_.@-]{1,64}$/;

function checkId(v: unknown, field: string): string {
  if (typeof v !== 'string' || !ID.test(v)) {
    throw invalid(field, `Invalid parameter: ${field} must be 1-64 letters, digits, "_", "." or "-" (starting with a letter or digit), got ${JSON.stringify(v)}`);
  }
  return v;
}

/**
 * On an empty store: org o-default with its root directory and user u-admin named admin. Several
 * processes starting at once on one database may all find it empty: the store's unique keys let one of
 * them create each row, and the others take what it made.
 */
export async function bootstrap(store: Store, clock: Clock): Promise<{ created: boolean }> {
  if ((await store.listOrgs()).length > 0) return { created: false };
  const now = clock.now();
  const made = await store.createOrg({ id: DEFAULT_ORG.id, name: DEFAULT_ORG.name, createdAt: now }).then(
    () => true,
    (e: unknown) => {
      if (e instanceof DuplicateKeyError) return false;
      throw e;
    },
  );
  await store.createUser({ id: DEFAULT_ADMIN.id, name: DEFAULT_ADMIN.name, orgId: DEFAULT_ADMIN.orgId, locked: false, createdAt: now }).catch((e: unknown) => {
    if (!(e instanceof DuplicateKeyError)) throw e;
  });
  return { created: made };
}

export async function addOrg(store: Store, clock: Clock, input: { id: string; name: string }): Promise<void> {
  const id = checkId(input.id, 'id');
  const name = typeof input.name === 'string' ? input.name.trim() : '';
  if (name === '' || name.length > 128) throw invalid('name', 'Invalid parameter: name must be 1-128 characters');
  try {
    await store.createOrg({ id, name, createdAt: clock.now() });
  } catch (e) {
    if (e instanceof DuplicateKeyError) throw invalid('id', `Organization ${id} already exists`);
    throw e;
  }
}

/** An email address for alerts: one @, no spaces ('' clears it). */
function checkEmail(v: unknown): string {
  const e = typeof v === 'string' ? v.trim() : v;
  if (e === '') return '';
  if (typeof e !== 'string' || e.length > 254 || !EMAIL.test(e) || e.indexOf('@') !== e.lastIndexOf('@')) {
    throw invalid('email', `Invalid parameter: email must be an address with one "@" and no spaces, e.g. ops@example.com, got ${JSON.stringify(v)}`);
  }
  return e;
}

/** A phone number for SMS alerts: digits, "+", spaces and dashes ('' clears it). */
function checkPhone(v: unknown): string {
  const p = typeof v === 'string' ? v.trim() : v;
  if (p === '') return '';
  if (typeof p !== 'string' || p.length > 32 || !isPhone(p)) {
    throw invalid('phone', `Invalid parameter: phone must be digits with an optional leading "+", spaces or dashes (at least 3 digits), e.g. +86 138-0000-0000, got ${JSON.stringify(v)}`);
  }
  return p;
}

export async function addUser(store: Store, clock: Clock, input: { id: string; name: string; orgId: string; email?: string; phone?: string }): Promise<void> {
  const id = checkId(input.id, 'id');
  if (typeof input.name !== 'string' || !USER_NAME.test(input.name)) {
    throw invalid('name', `Invalid parameter: name must be 1-64 letters, digits, "_", ".", "@" or "-" (no ";" or spaces), got ${JSON.stringify(input.name)}`);
  }
  const orgId = checkId(input.orgId, 'orgId');
  const email = checkEmail(input.email ?? '');
  const phone = checkPhone(input.phone ?? '');
  if (!(await store.getOrg(orgId))) throw notFound('Organization', orgId);
  try {
    await store.createUser({ id, name: input.name, orgId, locked: false, createdAt: clock.now(), email, phone });
  } catch (e) {
    if (e instanceof DuplicateKeyError) throw invalid('id', `A user with id ${id} or name ${input.name} already exists`);
    throw e;
  }
}

export async function setUserLocked(store: Store, userId: string, locked: boolean): Promise<void> {
  if (typeof userId !== 'string' || userId === '') throw invalid('userId', 'Missing parameter: userId');
  if (!(await store.setUserLocked(userId, locked))) throw notFound('User', userId);
}

/** Changes a user's email and/or phone (alerts reach owners there); a field not given stays, '' clears it. */
export async function setUserContact(store: Store, userId: string, input: { email?: string; phone?: string }): Promise<User> {
  if (typeof userId !== 'string' || userId === '') throw invalid('userId', 'Missing parameter: userId');
  if (input.email === undefined && input.phone === undefined) throw invalid('email', 'Nothing to change: give --email and/or --phone');
  const contact = {
    ...(input.email !== undefined ? { email: checkEmail(input.email) } : {}),
    ...(input.phone !== undefined ? { phone: checkPhone(input.phone) } : {}),
  };
  if (!(await store.setUserContact(userId, contact))) throw notFound('User', userId);
  return (await store.getUser(userId))!;
}

/** The user named by a request's userId + orgId, or 62101. */
export async function resolveCaller(store: Store, userId: unknown, orgId: unknown): Promise<User> {
  for (const [name, v] of [['userId', userId], ['orgId', orgId]] as const) {
    if (Array.isArray(v)) throw new DomainError('unknownUser', `${name} must be given once, got it ${v.length} times`);
  }
  if (typeof userId !== 'string' || userId === '') throw new DomainError('unknownUser', 'Missing parameter: userId');
  if (typeof orgId !== 'string' || orgId === '') throw new DomainError('unknownUser', 'Missing parameter: orgId');
  const user = await store.getUser(userId);
  if (!user || user.orgId !== orgId) throw new DomainError('unknownUser', `userId ${userId}, orgId ${orgId}`);
  return user;
}
