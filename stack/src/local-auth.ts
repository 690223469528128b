/**
 * Authentication for the local system `npm start` runs (SPEC §8: on by default). On first run it makes an RSA key
 * pair under `.stack/auth/` (the gateway trusts the public half; `npm run token` signs with the private one); at
 * each start a fresh service-trust secret for the services, and tokens for each role plus an agent's API key in
 * `.stack/credentials.json`. Keys reach the services through their environment, never their command line.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DEFAULT_JWT_AUDIENCE,
  DEFAULT_JWT_ISSUER,
  type Role,
  generateUserSigningKeys,
  isRole,
  signUserToken,
} from '@heimdall/shared/auth';
import { StackError } from './stack.js';

/** SPEC §8: people's tokens live an hour, and the gateway refuses older ones. */
export const MAX_TOKEN_TTL_SECONDS = 3600;

export interface LocalAuthFiles {
  readonly dir: string;
  readonly privateKeyFile: string;
  readonly publicKeyFile: string;
  readonly credentialsFile: string;
  /** The key sealing notification channels' secrets in PostgreSQL: kept across starts, or sealed secrets are lost. */
  readonly notificationKeyFile: string;
}

export function localAuthFiles(stackDir: string): LocalAuthFiles {
  const dir = join(stackDir, 'auth');
  return {
    dir,
    privateKeyFile: join(dir, 'jwt-private.pem'),
    publicKeyFile: join(dir, 'jwt-public.pem'),
    credentialsFile: join(stackDir, 'credentials.json'),
    notificationKeyFile: join(dir, 'notification-secret.key'),
  };
}

/** What `npm start` writes to `.stack/credentials.json`. */
export interface Credentials {
  readonly adminToken: string;
  readonly editorToken: string;
  readonly viewerToken: string;
  readonly agentKey: string | undefined;
}

async function readOptional(file: string): Promise<string | undefined> {
  return readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
}

/** The signing key pair, made on first run: the private key readable by its owner alone. */
export async function ensureSigningKeys(files: LocalAuthFiles): Promise<{ privateKeyPem: string; created: boolean }> {
  const existing = await readOptional(files.privateKeyFile);
  if (existing !== undefined && (await readOptional(files.publicKeyFile)) !== undefined)
    return { privateKeyPem: existing, created: false };
  await mkdir(files.dir, { recursive: true, mode: 0o700 });
  const { privateKeyPem, publicKeyPem } = await generateUserSigningKeys();
  await writeFile(files.privateKeyFile, privateKeyPem, { mode: 0o600 });
  await writeFile(files.publicKeyFile, publicKeyPem);
  return { privateKeyPem, created: true };
}

/**
 * `{ NOTIFICATION_SECRET_KEY }` for the alerts subgraph: the caller's own, else the local key made on first run
 * (32 random bytes, base64, readable by its owner alone) and read again at every start.
 */
export async function ensureNotificationKey(
  files: LocalAuthFiles,
  env: Readonly<Record<string, string | undefined>>,
): Promise<{ NOTIFICATION_SECRET_KEY: string }> {
  if (env.NOTIFICATION_SECRET_KEY !== undefined) return { NOTIFICATION_SECRET_KEY: env.NOTIFICATION_SECRET_KEY };
  const existing = await readOptional(files.notificationKeyFile);
  if (existing !== undefined) return { NOTIFICATION_SECRET_KEY: existing.trim() };
  await mkdir(files.dir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32).toString('base64');
  await writeFile(files.notificationKeyFile, `${key}\n`, { mode: 0o600, flag: 'wx' });
  return { NOTIFICATION_SECRET_KEY: key };
}

/** The private key `npm run token` signs with; fails with what to do when `npm start` has not made it yet. */
export async function readSigningKey(files: LocalAuthFiles): Promise<string> {
  const pem = await readOptional(files.privateKeyFile);
  if (pem === undefined)
    throw new StackError(`no signing key at ${files.privateKeyFile}: run \`npm start\` once to create it`);
  return pem;
}

/**
 * What every service gets in its environment: the service-trust secret (the caller's own SERVICE_AUTH_SECRET, or a
 * fresh one for this start) and, unless the caller points the gateway at keys of its own, the public key file.
 */
export function serviceAuthEnv(
  env: Readonly<Record<string, string | undefined>>,
  files: LocalAuthFiles,
): Record<string, string> {
  const result: Record<string, string> = {
    SERVICE_AUTH_SECRET: env.SERVICE_AUTH_SECRET ?? randomBytes(32).toString('base64url'),
  };
  if (env.JWT_JWKS_URL === undefined && env.JWT_PUBLIC_KEY_FILE === undefined)
    result.JWT_PUBLIC_KEY_FILE = files.publicKeyFile;
  return result;
}

/** `1h`, `30m`, `90s` or plain seconds; at most an hour (the gateway refuses older tokens). */
export function parseTtl(text: string): { ok: true; seconds: number } | { ok: false; message: string } {
  const match = /^(\d+)([smh]?)$/.exec(text.trim());
  if (match === null) return { ok: false, message: `--ttl ${text}: a duration such as 1h, 30m or 90s` };
  const seconds = Number(match[1]) * ({ h: 3600, m: 60, s: 1, '': 1 } as const)[match[2] as 'h' | 'm' | 's' | ''];
  if (seconds <= 0 || seconds > MAX_TOKEN_TTL_SECONDS)
    return { ok: false, message: `--ttl ${text}: between 1 s and 1 h (the gateway refuses tokens older than an hour)` };
  return { ok: true, seconds };
}

export interface TokenRequest {
  readonly role: Role;
  readonly ttlSeconds: number;
  readonly subject?: string;
}

/** A token the local gateway accepts, with the issuer and audience it expects. */
export function mintToken(
  privateKeyPem: string,
  request: TokenRequest,
  env: Readonly<Record<string, string | undefined>>,
): Promise<string> {
  return signUserToken(privateKeyPem, {
    subject: request.subject ?? `local-${request.role}`,
    roles: [request.role],
    ttlSeconds: request.ttlSeconds,
    issuer: env.JWT_ISSUER ?? DEFAULT_JWT_ISSUER,
    audience: env.JWT_AUDIENCE ?? DEFAULT_JWT_AUDIENCE,
  });
}

/** `npm run token -- --role viewer [--ttl 1h] [--subject name]`. */
export function parseTokenArguments(
  args: readonly string[],
): { ok: true; request: TokenRequest } | { ok: false; message: string } {
  let role: string | undefined;
  let ttl = '1h';
  let subject: string | undefined;
  for (let i = 0; i < args.length; i += 2) {
    const [flag, value] = [args[i], args[i + 1]];
    if (value === undefined) return { ok: false, message: `${flag} needs a value` };
    if (flag === '--role') role = value;
    else if (flag === '--ttl') ttl = value;
    else if (flag === '--subject') subject = value;
    else return { ok: false, message: `unknown option ${flag}` };
  }
  if (!isRole(role)) return { ok: false, message: '--role viewer|editor|admin|agent is required' };
  const parsed = parseTtl(ttl);
  if (!parsed.ok) return parsed;
  return { ok: true, request: { role, ttlSeconds: parsed.seconds, ...(subject === undefined ? {} : { subject }) } };
}

interface GraphQLAnswer<T> {
  data?: T;
  errors?: { message: string }[];
}

async function graphql<T>(url: string, token: string, query: string): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
    signal: AbortSignal.timeout(10_000),
  });
  const answer = (await response.json()) as GraphQLAnswer<T>;
  if (answer.data === undefined || answer.errors !== undefined)
    throw new Error(`the gateway answered ${response.status}: ${answer.errors?.[0]?.message ?? 'no data'}`);
  return answer.data;
}

/**
 * The agent's API key: the one from the last start while the gateway still knows it (Redis keeps it), else a new
 * one created through the gateway's GraphQL as an admin.
 */
export async function ensureAgentKey(
  graphqlUrl: string,
  adminToken: string,
  known: string | undefined,
): Promise<string> {
  const knownId = known === undefined ? undefined : /^hmd_([0-9a-f]{16})_/.exec(known)?.[1];
  if (knownId !== undefined) {
    const { apiKeys } = await graphql<{ apiKeys: { id: string }[] }>(graphqlUrl, adminToken, '{ apiKeys { id } }');
    if (apiKeys.some((key) => key.id === knownId)) return known!;
  }
  const { createApiKey } = await graphql<{ createApiKey: { key: string } }>(
    graphqlUrl,
    adminToken,
    'mutation { createApiKey(name: "local agent (npm start)") { key } }',
  );
  return createApiKey.key;
}

export async function readCredentials(files: LocalAuthFiles): Promise<Partial<Credentials>> {
  const text = await readOptional(files.credentialsFile);
  return text === undefined ? {} : (JSON.parse(text) as Partial<Credentials>);
}

export async function writeCredentials(files: LocalAuthFiles, credentials: Credentials): Promise<void> {
  await writeFile(files.credentialsFile, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  // writeFile keeps the mode of a file that exists already.
  await chmod(files.credentialsFile, 0o600);
}

/** Tokens for every role of a person (an hour each); the agent's key is the caller's to ensure. */
export async function mintCredentials(
  privateKeyPem: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<Omit<Credentials, 'agentKey'>> {
  const token = (role: Role) => mintToken(privateKeyPem, { role, ttlSeconds: MAX_TOKEN_TTL_SECONDS }, env);
  return { adminToken: await token('admin'), editorToken: await token('editor'), viewerToken: await token('viewer') };
}

/** How to use the credentials, printed by `npm start` (the values stay in the file). */
export function credentialsHelp(files: LocalAuthFiles, urls: { graphql: string; otlp: string }): string {
  const file = files.credentialsFile;
  return [
    `Credentials in ${file} (tokens valid for 1 h; \`npm run token -- --role viewer\` mints another):`,
    `  curl -s ${urls.graphql} -H "Authorization: Bearer $(node -p 'require("${file}").viewerToken')" \\`,
    `    -H 'content-type: application/json' -d '{"query":"{ service(name: \\"checkout\\") { name } }"}'`,
    `  agents push to ${urls.otlp}/v1/metrics with the header x-api-key: <agentKey>`,
  ].join('\n');
}
