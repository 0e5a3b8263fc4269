// Secrets at rest (contract §9): app secrets and issued tokens are stored encrypted under the service's
// master key with AES-256-GCM, bound to the row they belong to (the associated data), so a copied
// ciphertext does not decrypt in another row. Each ciphertext names the key it was made with, so a
// store opened with the wrong key fails with that sentence instead of garbage.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

export class MasterKeyMismatchError extends Error {
  override readonly name: string = 'MasterKeyMismatchError';
}

export interface SecretBox {
  /** A short public id of the key (not the key): what the store remembers to detect a wrong key. */
  readonly keyId: string;
  seal(plain: string, boundTo: string): string;
  open(sealed: string, boundTo: string): string;
}

/** The id of a key: 16 hex digits of a hash under a fixed label (says nothing useful about the key). */
export const keyIdOf = (key: Buffer): string => createHash('sha256').update('batchflow master key id\0').update(key).digest('hex').slice(0, 16);

export function secretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new Error('the master key must be 32 bytes');
  const keyId = keyIdOf(key);
  return {
    keyId,
    seal(plain, boundTo) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      c.setAAD(Buffer.from(boundTo, 'utf8'));
      const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return `v1.${keyId}.${Buffer.concat([iv, c.getAuthTag(), body]).toString('base64')}`;
    },
    open(sealed, boundTo) {
      const [v, id, b64] = sealed.split('.');
      if (v !== 'v1' || !b64) throw new Error('not a sealed secret');
      if (id !== keyId) throw new MasterKeyMismatchError(`a secret sealed under master key ${id} cannot be opened with key ${keyId}`);
      const raw = Buffer.from(b64, 'base64');
      const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
      d.setAAD(Buffer.from(boundTo, 'utf8'));
      d.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
    },
  };
}

/** A master key as written in BATCHFLOW_MASTER_KEY or a key file: 64 hex digits or 32 bytes in base64. */
export function parseMasterKey(text: string): Buffer | null {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, 'hex');
  if (/^[A-Za-z0-9+/]{43}=$/.test(t)) {
    const b = Buffer.from(t, 'base64');
    if (b.length === 32) return b;
  }
  return null;
}

export const newMasterKey = (): Buffer => randomBytes(32);
