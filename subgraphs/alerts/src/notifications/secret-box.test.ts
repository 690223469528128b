import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretBox, parseSecretKeys } from './secret-box.js';

const makeKey = () => randomBytes(32);

describe('parseSecretKeys', () => {
  it('reads hex, base64 and base64url keys separated by commas', () => {
    const key = makeKey();
    const parsed = parseSecretKeys(` ${key.toString('hex')}, ${key.toString('base64')},${key.toString('base64url')} `);
    expect(parsed).toEqual({ ok: true, keys: [key, key, key] });
  });

  it('names the bad key by position without repeating it', () => {
    const parsed = parseSecretKeys(`${makeKey().toString('hex')},hunter2`);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.message).toMatch(/^key 2 is not 32 bytes/);
    expect(!parsed.ok && parsed.message).not.toContain('hunter2');
  });

  it('refuses an empty value', () => {
    expect(parseSecretKeys(' , ').ok).toBe(false);
  });

  it('refuses 16 bytes written as base64', () => {
    expect(parseSecretKeys(randomBytes(16).toString('base64')).ok).toBe(false);
  });
});

describe('SecretBox', () => {
  it('opens what it sealed for the same owner', () => {
    const box = new SecretBox([makeKey()]);
    const sealed = box.seal('s3cret', 'channel-1');
    expect(sealed).not.toContain('s3cret');
    expect(box.open(sealed, 'channel-1')).toBe('s3cret');
  });

  it('seals the same value differently each time (a fresh nonce)', () => {
    const box = new SecretBox([makeKey()]);
    expect(box.seal('same', 'c')).not.toBe(box.seal('same', 'c'));
  });

  it('refuses a value sealed for another row', () => {
    const box = new SecretBox([makeKey()]);
    expect(() => box.open(box.seal('s3cret', 'channel-1'), 'channel-2')).toThrow();
  });

  it('refuses an altered ciphertext', () => {
    const box = new SecretBox([makeKey()]);
    const parts = box.seal('s3cret', 'c').split('.');
    const ciphertext = Buffer.from(parts[3]!, 'base64url');
    ciphertext[0] = ciphertext[0]! ^ 1;
    parts[3] = ciphertext.toString('base64url');
    expect(() => box.open(parts.join('.'), 'c')).toThrow();
  });

  it('refuses a truncated authentication tag', () => {
    const box = new SecretBox([makeKey()]);
    const parts = box.seal('s3cret', 'c').split('.');
    parts[4] = Buffer.from(parts[4]!, 'base64url').subarray(0, 4).toString('base64url');
    expect(() => box.open(parts.join('.'), 'c')).toThrow();
  });

  it('opens values sealed with an older key after rotation, and seals with the first', () => {
    const [oldKey, newKey] = [makeKey(), makeKey()];
    const sealedBefore = new SecretBox([oldKey]).seal('s3cret', 'c');
    const rotated = new SecretBox([newKey, oldKey]);
    expect(rotated.open(sealedBefore, 'c')).toBe('s3cret');
    expect(() => new SecretBox([oldKey]).open(rotated.seal('s3cret', 'c'), 'c')).toThrow(/no longer holds/);
  });
});
