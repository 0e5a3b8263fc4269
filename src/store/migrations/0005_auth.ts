// 0005: authentication state (contract §9), shared by every process of a deployment. Append-only.
// apps: access keys of an org, their secret sealed under the master key. app_tokens: issued access
// tokens, looked up by a hash of the token (the token itself is sealed too, so that Get Access Token can
// answer the same token again while it is valid). auth_nonces: signatures and token-request encryptions
// already seen, until their timestamp window has passed (replay refusal across processes).
import type { Kysely } from 'kysely';

export const name = '0005_auth';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  const s = db.schema;
  await s
    .createTable('apps')
    .addColumn('access_key', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('secret_sealed', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .execute();
  await s.createIndex('apps_org_idx').on('apps').columns(['org_id', 'created_at']).execute();
  await s
    .createTable('app_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('access_key', 'text', (c) => c.notNull().references('apps.access_key'))
    .addColumn('token_sealed', 'text', (c) => c.notNull())
    .addColumn('issued_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await s.createIndex('app_tokens_app_idx').on('app_tokens').columns(['access_key', 'expires_at']).execute();
  await s.createIndex('app_tokens_expiry_idx').on('app_tokens').column('expires_at').execute();
  await s
    .createTable('auth_nonces')
    .addColumn('nonce', 'text', (c) => c.primaryKey())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await s.createIndex('auth_nonces_expiry_idx').on('auth_nonces').column('expires_at').execute();
}
