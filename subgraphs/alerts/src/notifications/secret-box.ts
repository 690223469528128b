/**
 * Channel secrets at rest (issue 13: webhook secrets, Slack URLs, SMTP passwords, header values): AES-256-GCM with
 * keys from NOTIFICATION_SECRET_KEY, a fresh 96-bit nonce per value, and the owning row's id as additional
 * authenticated data, so that a sealed value copied onto another channel does not open. The sealed form names its
 * key by id (`v1.<key id>.<nonce>.<ciphertext>.<tag>`): with several keys configured the first seals and every one
 * opens, which is how a key is rotated.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 'v1';

export type SecretKeysResult =
  { readonly ok: true; readonly keys: readonly Buffer[] } | { readonly ok: false; readonly message: string };

/** One key: 32 bytes as 64 hex digits or as base64/base64url (`openssl rand -base64 32`). */
function decodeKey(text: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (!/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(text)) return undefined;
  const bytes = Buffer.from(text.replaceAll('-', '+').replaceAll('_', '/'), 'base64');
  return bytes.length === KEY_BYTES ? bytes : undefined;
}

/** NOTIFICATION_SECRET_KEY: keys separated by commas. The message never repeats a value (it is a secret). */
export function parseSecretKeys(text: string): SecretKeysResult {
  const parts = text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  if (parts.length === 0)
    return {
      ok: false,
      message: 'required: a 32-byte key as 64 hex digits or base64, e.g. from `openssl rand -base64 32`',
    };
  const keys: Buffer[] = [];
  for (const [i, part] of parts.entries()) {
    const key = decodeKey(part);
    if (key === undefined)
      return {
        ok: false,
        message: `key ${i + 1} is not 32 bytes as 64 hex digits or base64 (e.g. from \`openssl rand -base64 32\`)`,
      };
    keys.push(key);
  }
  return { ok: true, keys };
}

const keyId = (key: Buffer) => createHash('sha256').update(key).digest('hex').slice(0, 8);

export class SecretBox {
  private readonly keys: ReadonlyMap<string, Buffer>;
  private readonly sealing: { readonly id: string; readonly key: Buffer };

  constructor(keys: readonly Buffer[]) {
    const [first] = keys;
    if (first === undefined || keys.some((key) => key.length !== KEY_BYTES))
      throw new Error('SecretBox needs 32-byte keys');
    this.keys = new Map(keys.map((key) => [keyId(key), key]));
    this.sealing = { id: keyId(first), key: first };
  }

  /** `plaintext` sealed for the row `owner` (its id). */
  seal(plaintext: string, owner: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.sealing.key, nonce);
    cipher.setAAD(Buffer.from(owner));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [
      VERSION,
      this.sealing.id,
      nonce.toString('base64url'),
      ciphertext.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
    ].join('.');
  }

  /**
   * The plaintext of a value sealed for `owner`. Throws when it was sealed with a key no longer configured, for
   * another row, or was altered: a broken invariant of the store, never input.
   */
  open(sealed: string, owner: string): string {
    const [version, id, nonce, ciphertext, tag] = sealed.split('.');
    if (version !== VERSION || id === undefined || nonce === undefined || ciphertext === undefined || tag === undefined)
      throw new Error('not a sealed secret');
    const key = this.keys.get(id);
    if (key === undefined) throw new Error(`sealed with key ${id}, which NOTIFICATION_SECRET_KEY no longer holds`);
    // A fixed tag length: GCM would otherwise accept a truncated tag, which is far easier to forge.
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64url'), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(Buffer.from(owner));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  }
}
