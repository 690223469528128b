import { describe, expect, it } from 'vitest';
import { mayEdit, sessionOf } from './session.js';

const jwt = (claims: object) => `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

describe('what the console tells of a credential', () => {
  it('reads a token’s subject, roles and expiry', () => {
    const session = sessionOf(jwt({ sub: 'kim', roles: ['viewer', 'nonsense'], exp: 2_000_000_000 }));
    expect(session).toMatchObject({ subject: 'kim', roles: ['viewer'], expiresAt: 2_000_000_000_000 });
    expect(mayEdit(session)).toBe(false);
    expect(mayEdit(sessionOf(jwt({ sub: 'lee', roles: 'editor' })))).toBe(true);
  });

  it('offers an API key no edit control: the gateway tells what it may do', () => {
    expect(sessionOf('hk_0123456789abcdef')).toMatchObject({ subject: 'API key', roles: ['viewer'], expiresAt: null });
  });
});
