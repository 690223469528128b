import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createUserTokenVerifier } from '@heimdall/shared/auth';
import {
  ensureAgentKey,
  ensureNotificationKey,
  ensureSigningKeys,
  localAuthFiles,
  mintCredentials,
  mintToken,
  parseTokenArguments,
  readCredentials,
  serviceAuthEnv,
  writeCredentials,
} from './local-auth.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0)) await step();
});

async function makeStackDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'heimdall-auth-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A stand-in for the gateway's GraphQL: the API keys it knows, and the queries it received. */
async function makeGateway(known: string[]): Promise<{ url: string; queries: string[] }> {
  const queries: string[] = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const { query } = JSON.parse(body) as { query: string };
      queries.push(query);
      const data = query.includes('createApiKey')
        ? { createApiKey: { key: `hmd_${'f'.repeat(16)}_${'n'.repeat(43)}` } }
        : { apiKeys: known.map((id) => ({ id })) };
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, queries };
}

describe('local authentication for npm start', () => {
  it('makes the signing key once, readable by its owner alone, and keeps it across starts', async () => {
    const files = localAuthFiles(await makeStackDir());
    const first = await ensureSigningKeys(files);
    const second = await ensureSigningKeys(files);
    expect(first.created).toBe(true);
    expect(second).toEqual({ privateKeyPem: first.privateKeyPem, created: false });
    expect((await stat(files.privateKeyFile)).mode & 0o777).toBe(0o600);
  });

  it('makes the key sealing channel secrets once and gives the alerts subgraph the same one at every start, unless the caller set one', async () => {
    const files = localAuthFiles(await makeStackDir());
    const first = await ensureNotificationKey(files, {});
    expect(Buffer.from(first.NOTIFICATION_SECRET_KEY, 'base64')).toHaveLength(32);
    expect(await ensureNotificationKey(files, {})).toEqual(first);
    expect((await stat(files.notificationKeyFile)).mode & 0o777).toBe(0o600);
    expect(await ensureNotificationKey(files, { NOTIFICATION_SECRET_KEY: 'mine' })).toEqual({
      NOTIFICATION_SECRET_KEY: 'mine',
    });
  });

  it('mints tokens for each role that a gateway trusting the public key accepts', async () => {
    const files = localAuthFiles(await makeStackDir());
    const { privateKeyPem } = await ensureSigningKeys(files);
    const verifier = await createUserTokenVerifier({
      keys: { publicKeysPem: [await readFile(files.publicKeyFile, 'utf8')] },
      issuer: 'airis-epm',
      audience: 'airis-services',
      clockToleranceSeconds: 30,
      maxTokenAgeSeconds: 3600,
      rolesClaim: 'roles',
    });
    const credentials = await mintCredentials(privateKeyPem, {});
    expect(await verifier.verify(credentials.editorToken)).toEqual({
      ok: true,
      caller: { kind: 'user', subject: 'local-editor', roles: ['editor'] },
    });
    const custom = await mintToken(privateKeyPem, { role: 'viewer', ttlSeconds: 60, subject: 'grafana' }, {});
    expect(await verifier.verify(custom)).toMatchObject({
      ok: true,
      caller: { subject: 'grafana', roles: ['viewer'] },
    });
    const elsewhere = await mintToken(privateKeyPem, { role: 'viewer', ttlSeconds: 60 }, { JWT_AUDIENCE: 'other' });
    expect(await verifier.verify(elsewhere)).toMatchObject({ ok: false });
  });

  it('gives the services a fresh secret and the public key file, unless the environment brings its own', () => {
    const files = localAuthFiles('/repo/.stack');
    const fresh = serviceAuthEnv({}, files);
    expect(fresh).toEqual({
      SERVICE_AUTH_SECRET: expect.stringMatching(/^[\w-]{43}$/) as unknown,
      JWT_PUBLIC_KEY_FILE: '/repo/.stack/auth/jwt-public.pem',
    });
    expect(serviceAuthEnv({}, files).SERVICE_AUTH_SECRET).not.toBe(fresh.SERVICE_AUTH_SECRET);
    expect(
      serviceAuthEnv({ SERVICE_AUTH_SECRET: 'mine'.repeat(10), JWT_JWKS_URL: 'https://idp.example/jwks' }, files),
    ).toEqual({ SERVICE_AUTH_SECRET: 'mine'.repeat(10) });
  });

  it('writes credentials.json with the four names, readable by its owner alone', async () => {
    const files = localAuthFiles(await makeStackDir());
    await writeFile(files.credentialsFile, '{}', { mode: 0o644 });
    await writeCredentials(files, { adminToken: 'a', editorToken: 'e', viewerToken: 'v', agentKey: 'k' });
    expect(await readCredentials(files)).toEqual({
      adminToken: 'a',
      editorToken: 'e',
      viewerToken: 'v',
      agentKey: 'k',
    });
    expect((await stat(files.credentialsFile)).mode & 0o777).toBe(0o600);
  });

  it('keeps the agent key the gateway still knows, and creates one otherwise', async () => {
    const known = `hmd_${'a'.repeat(16)}_${'s'.repeat(43)}`;
    const gateway = await makeGateway(['a'.repeat(16)]);
    expect(await ensureAgentKey(gateway.url, 'admin-token', known)).toBe(known);
    expect(gateway.queries.some((q) => q.includes('createApiKey'))).toBe(false);

    const forgetful = await makeGateway([]);
    expect(await ensureAgentKey(forgetful.url, 'admin-token', known)).toMatch(/^hmd_f{16}_/);
    expect(await ensureAgentKey(forgetful.url, 'admin-token', undefined)).toMatch(/^hmd_f{16}_/);
  });

  it('reads `npm run token` arguments, an hour at most', () => {
    expect(parseTokenArguments(['--role', 'viewer'])).toEqual({
      ok: true,
      request: { role: 'viewer', ttlSeconds: 3600 },
    });
    expect(parseTokenArguments(['--role', 'agent', '--ttl', '15m', '--subject', 'collector'])).toEqual({
      ok: true,
      request: { role: 'agent', ttlSeconds: 900, subject: 'collector' },
    });
    expect(parseTokenArguments(['--role', 'root'])).toMatchObject({
      ok: false,
      message: expect.stringContaining('--role') as unknown,
    });
    expect(parseTokenArguments(['--role', 'viewer', '--ttl', '2h'])).toMatchObject({
      ok: false,
      message: expect.stringContaining('1 h') as unknown,
    });
    expect(parseTokenArguments(['--role'])).toMatchObject({ ok: false });
  });
});
