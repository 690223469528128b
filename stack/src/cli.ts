import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@heimdall/shared/config';
import { loadStackConfig } from './config.js';
import { stackEndpoints } from './endpoints.js';
import {
  credentialsHelp,
  ensureAgentKey,
  ensureNotificationKey,
  ensureSigningKeys,
  localAuthFiles,
  mintCredentials,
  mintToken,
  parseTokenArguments,
  readCredentials,
  readSigningKey,
  serviceAuthEnv,
  writeCredentials,
} from './local-auth.js';
import { serviceEnvironment } from './service-env.js';
import { findServices } from './services.js';
import { processSupervisor } from './supervisor.js';
import { Stack, StackError, type ServerStatus } from './stack.js';
import { SERVERS } from './servers/index.js';

const USAGE = `usage: npm run stack -- <command>
  up [server...]      install what is missing, start the servers, wait until ready
  down [server...]    stop the servers the stack started (data is kept)
  status              each server: up/down, port, version, pid, memory
  logs <server>       the last 200 lines of a server's log
  token --role <role> [--ttl 1h] [--subject name]
                      a token for the local gateway (npm run token -- --role viewer)
servers: ${SERVERS.map((s) => s.name).join(', ')}`;

const repoDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function formatTable(rows: readonly ServerStatus[]): string {
  const lines = rows.map((r) => [
    r.name,
    r.state,
    String(r.port),
    r.version ?? '-',
    r.pid === undefined ? '-' : String(r.pid),
    r.rssBytes === 0 ? '-' : `${Math.round(r.rssBytes / 2 ** 20)} MiB`,
  ]);
  const header = ['SERVER', 'STATE', 'PORT', 'VERSION', 'PID', 'RSS'];
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  return [header, ...lines]
    .map((cells) =>
      cells
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

async function printStatus(stack: Stack): Promise<void> {
  const rows = await stack.status(stack.servers);
  const total = rows.reduce((sum, r) => sum + r.rssBytes, 0);
  console.log(formatTable(rows));
  console.log(`stack resident memory: ${Math.round(total / 2 ** 20)} MiB; data under ${stack.config.stackDir}`);
}

function run(command: string, args: readonly string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: repoDir, stdio: 'inherit' });
    child.once('error', () => resolve(127));
    child.once('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
  });
}

/**
 * Resolves on the first SIGINT/SIGTERM. The handlers stay installed so that a second signal (Ctrl-C reaches
 * npm, the bootstrap and this process at once) does not kill this process halfway through stopping the stack.
 */
class StopSignal {
  received = false;
  readonly requested = new Promise<void>((resolve) => {
    const stop = () => {
      this.received = true;
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** `npm start`: the stack, then every Heimdall service, in the foreground until Ctrl-C. */
async function start(stack: Stack): Promise<number> {
  const stop = new StopSignal();
  const started = await stack.up(stack.servers);
  await printStatus(stack);
  const services = await findServices(repoDir);
  const runner = processSupervisor();
  const auth = localAuthFiles(stack.config.stackDir);
  const { privateKeyPem, created } = await ensureSigningKeys(auth);
  if (created) console.log(`created the local signing key for people's tokens in ${auth.dir}`);
  // Keys reach the services through their environment, never their command line (visible to every local user).
  const env = {
    ...serviceEnvironment(stackEndpoints(stack.config), process.env),
    ...serviceAuthEnv(process.env, auth),
    ...(await ensureNotificationKey(auth, process.env)),
  };
  // The gateway serves the console from console/dist: built afresh each start (well under a second), never stale.
  if ((await run(process.execPath, ['--import', 'tsx', join(repoDir, 'console', 'build.ts')])) !== 0) return 1;
  // Subgraphs first, then the gateway, so that its first supergraph already has them.
  const outcomes = [...(await runner.start(services.subgraphs, env)), ...(await runner.start(services.gateways, env))];
  for (const outcome of outcomes) console.log(outcome);
  if (services.gateways.length > 0) await publishCredentials(auth, privateKeyPem);
  console.log(
    outcomes.length === 0
      ? 'No Heimdall services yet: the stack alone is running. Ctrl-C stops it.'
      : services.gateways.length > 0
        ? 'Heimdall is up: the console at http://127.0.0.1:4000/ (sign in with a token above), GraphQL at http://127.0.0.1:4000/graphql. Ctrl-C stops everything.'
        : 'Ctrl-C stops everything.',
  );
  // The watch also keeps this process alive: signal listeners alone do not hold Node's event loop open.
  const reported = new Set<string>();
  const watch = setInterval(() => {
    void Promise.all(
      stack.servers.map(async (server) => {
        if (reported.has(server.name) || (await stack.process(server)) !== undefined) return;
        reported.add(server.name);
        console.error(`${server.name} stopped; see \`npm run stack -- logs ${server.name}\``);
      }),
    );
  }, 5000);
  await stop.requested;
  clearInterval(watch);
  console.log('stopping…');
  await runner.stop();
  await stack.down(stack.servers.filter((s) => started.includes(s.name)));
  return 0;
}

/** `.stack/credentials.json`: tokens re-minted at each start, the agent's key kept while the gateway knows it. */
async function publishCredentials(auth: ReturnType<typeof localAuthFiles>, privateKeyPem: string): Promise<void> {
  const tokens = await mintCredentials(privateKeyPem, process.env);
  const graphqlUrl = 'http://127.0.0.1:4000/graphql';
  const agentKey = await ensureAgentKey(graphqlUrl, tokens.adminToken, (await readCredentials(auth)).agentKey).catch(
    (error: unknown) => {
      console.error(
        `no agent key this time (${error instanceof Error ? error.message : String(error)}); the tokens still work`,
      );
      return undefined;
    },
  );
  await writeCredentials(auth, { ...tokens, agentKey });
  if (process.env.AUTH_DISABLED === 'true')
    console.warn('AUTH_DISABLED=true: the gateway asks for no credentials (never in production)');
  console.log(credentialsHelp(auth, { graphql: graphqlUrl, otlp: 'http://127.0.0.1:4318' }));
}

/** `npm run token -- --role viewer [--ttl 1h]`: the token alone on stdout, for `$(npm run -s token -- …)`. */
async function token(stack: Stack, args: readonly string[]): Promise<number> {
  const parsed = parseTokenArguments(args);
  if (!parsed.ok) {
    console.error(`heimdall: ${parsed.message}`);
    return 2;
  }
  console.log(
    await mintToken(await readSigningKey(localAuthFiles(stack.config.stackDir)), parsed.request, process.env),
  );
  return 0;
}

interface VitestSummary {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
}

/** `npm test`: the stack (if not up), format check, the console's build, type check, lint, both test tiers; stops what it started. */
async function test(stack: Stack): Promise<number> {
  const stop = new StopSignal();
  const started = await stack.up(stack.servers);
  const bin = (name: string) => join(repoDir, 'node_modules', '.bin', name);
  const results = join(stack.config.stackDir, 'test-results');
  const vitest = (tier: string): [string, string, string[]] => [
    `${tier} tests`,
    bin('vitest'),
    [
      'run',
      '--project',
      tier,
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${join(results, `${tier}.json`)}`,
    ],
  ];
  const steps: [string, string, string[]][] = [
    // `npm run format` writes what this checks.
    ['format', bin('prettier'), ['--check', '--log-level=warn', '.']],
    ['console build', process.execPath, ['--import', 'tsx', join(repoDir, 'console', 'build.ts')]],
    ['typecheck and lint', bin('turbo'), ['run', 'typecheck', 'lint', '--output-logs=errors-only']],
    vitest('unit'),
    vitest('int'),
  ];
  const failed: string[] = [];
  try {
    await rm(results, { recursive: true, force: true });
    for (const [label, command, args] of steps) {
      if (stop.received) break;
      console.log(`\n== ${label}`);
      if ((await run(command, args)) !== 0) failed.push(label);
    }
  } finally {
    await stack.down(stack.servers.filter((s) => started.includes(s.name)));
  }
  const totals = { passed: 0, failed: 0, skipped: 0 };
  for (const tier of ['unit', 'int']) {
    const summary = await readFile(join(results, `${tier}.json`), 'utf8').then(
      (text) => JSON.parse(text) as VitestSummary,
      () => undefined,
    );
    totals.passed += summary?.numPassedTests ?? 0;
    totals.failed += summary?.numFailedTests ?? 0;
    totals.skipped += summary?.numPendingTests ?? 0;
  }
  console.log(failed.length === 0 ? '\nall checks passed' : `\nfailed: ${failed.join(', ')}`);
  console.log(`tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
  return failed.length === 0 ? 0 : 1;
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  const stack = new Stack(loadStackConfig(process.env, repoDir), SERVERS);
  switch (command) {
    case 'up': {
      const started = await stack.up(stack.select(rest));
      console.log(started.length === 0 ? 'already up' : `started ${started.join(', ')}`);
      await printStatus(stack);
      return 0;
    }
    case 'down': {
      const stopped = await stack.down(stack.select(rest));
      console.log(stopped.length === 0 ? 'nothing to stop' : `stopped ${stopped.join(', ')}`);
      return 0;
    }
    case 'status':
      await printStatus(stack);
      return 0;
    case 'logs': {
      const [server] = stack.select(rest.slice(0, 1));
      if (rest.length !== 1 || server === undefined) break;
      const log = await readFile(stack.logFile(server), 'utf8').catch(() => `(no log yet at ${stack.logFile(server)})`);
      console.log(log.trimEnd().split('\n').slice(-200).join('\n'));
      return 0;
    }
    case 'start':
      return start(stack);
    case 'test':
      return test(stack);
    case 'token':
      return token(stack, rest);
  }
  console.error(USAGE);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof StackError || error instanceof ConfigError) {
      console.error(`heimdall: ${error.message}`);
    } else {
      console.error(error);
    }
    process.exit(1);
  },
);
