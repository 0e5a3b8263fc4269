// Apps (service accounts, contract §9): add one to an org (its secret shown once, sealed at rest), list
// them (never a secret), revoke one (its tokens go with it). The admin CLI and the first start call these.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from '../../domain/clock.js';
import { DomainError, invalid } from '../../domain/errors.js';
import type { Store } from '../../store/store.js';
import type { SecretBox } from './secretBox.js';

export interface NewAppCredentials {
  accessKey: string;
  /** Shown once: the store keeps it sealed, no command shows it again. */
  secretKey: string;
  orgId: string;
  name: string;
}

export interface AppListing {
  accessKey: string;
  orgId: string;
  name: string;
  createdAt: string;
  revoked: boolean;
  revokedAt: string | null;
}

export async function addApp(store: Store, clock: Clock, box: SecretBox, input: { orgId: string; name?: string }): Promise<NewAppCredentials> {
  if (typeof input.orgId !== 'string' || input.orgId === '') throw invalid('org', 'Invalid parameter: --org must name an organization');
  const name = (input.name ?? '').trim();
  if (name.length > 128) throw invalid('name', 'Invalid parameter: --name must be at most 128 characters');
  const accessKey = randomUUID();
  const secretKey = randomBytes(24).toString('base64url');
  await store.createApp({ accessKey, orgId: input.orgId, name, secretSealed: box.seal(secretKey, accessKey), createdAt: clock.now(), revokedAt: null });
  return { accessKey, secretKey, orgId: input.orgId, name };
}

export async function listApps(store: Store, orgId?: string): Promise<AppListing[]> {
  const iso = (t: number) => new Date(t).toISOString();
  return (await store.listApps(orgId)).map((a) => ({
    accessKey: a.accessKey,
    orgId: a.orgId,
    name: a.name,
    createdAt: iso(a.createdAt),
    revoked: a.revokedAt !== null,
    revokedAt: a.revokedAt === null ? null : iso(a.revokedAt),
  }));
}

export async function revokeApp(store: Store, clock: Clock, accessKey: string): Promise<{ accessKey: string; revoked: true }> {
  if (!(await store.revokeApp(accessKey, clock.now()))) {
    const app = await store.getApp(accessKey);
    throw new DomainError('notFound', app ? `app ${accessKey} is already revoked` : `app ${accessKey} not found`, 'accessKey');
  }
  return { accessKey, revoked: true };
}
