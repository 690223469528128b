import { describe, expect, it } from 'vitest';
import { mayIngest, mayRead, mayRunOperation } from './access.js';
import { type Caller, type Role, rolesFromClaim, serviceCaller } from './caller.js';

const person = (...roles: Role[]): Caller => ({ kind: 'user', subject: 'someone', roles });

describe('what each role may do', () => {
  it('lets viewers, editors and admins read, and neither agents nor people without a role', () => {
    for (const role of ['viewer', 'editor', 'admin'] as const)
      expect(mayRunOperation(person(role), 'query', ['service'])).toBe(true);
    expect(mayRunOperation(person('agent'), 'query', ['service'])).toBe(false);
    expect(mayRunOperation(person(), 'query', ['service'])).toBe(false);
  });

  it('lets editors and admins run mutations nobody listed, never viewers', () => {
    expect(mayRunOperation(person('editor'), 'mutation', ['createAlertRule'])).toBe(true);
    expect(mayRunOperation(person('admin'), 'mutation', ['createSilence'])).toBe(true);
    expect(mayRunOperation(person('viewer'), 'mutation', ['createAlertRule'])).toBe(false);
  });

  it('keeps API keys to admins, in queries and mutations alike', () => {
    expect(mayRunOperation(person('editor'), 'mutation', ['createApiKey'])).toBe(false);
    expect(mayRunOperation(person('viewer'), 'query', ['apiKeys'])).toBe(false);
    expect(mayRunOperation(person('admin'), 'mutation', ['createApiKey', 'revokeApiKey'])).toBe(true);
  });

  it('refuses an operation when any one of its root fields is beyond the caller', () => {
    expect(mayRunOperation(person('editor'), 'mutation', ['createAlertRule', 'revokeApiKey'])).toBe(false);
    expect(mayRunOperation(person('viewer'), 'query', ['service', 'apiKeys'])).toBe(false);
  });

  it('lets agents, admins and Heimdall services ingest, and nobody else', () => {
    expect(mayIngest(person('agent'))).toBe(true);
    expect(mayIngest(person('admin'))).toBe(true);
    expect(mayIngest(serviceCaller('traces'))).toBe(true);
    expect(mayIngest(person('editor'))).toBe(false);
    expect(mayIngest(person('viewer'))).toBe(false);
  });

  it('lets a Heimdall service read on its own behalf but change nothing through GraphQL', () => {
    expect(mayRunOperation(serviceCaller('alerts'), 'query', ['metricQuery'])).toBe(true);
    expect(mayRead(serviceCaller('alerts'))).toBe(true);
    expect(mayRunOperation(serviceCaller('alerts'), 'mutation', ['createAlertRule'])).toBe(false);
  });
});

describe('roles from a token claim', () => {
  it('reads an array or a space-separated string, and ignores names that are not Heimdall roles', () => {
    expect(rolesFromClaim(['viewer', 'superuser', 'editor', 'viewer'])).toEqual(['viewer', 'editor']);
    expect(rolesFromClaim('admin offline_access')).toEqual(['admin']);
    expect(rolesFromClaim(undefined)).toEqual([]);
    expect(rolesFromClaim(42)).toEqual([]);
  });
});
