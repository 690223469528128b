// Fault drills (issue 17): the system as `npm start` runs it on a private stack, a steady load of the three OTLP
// signals and the JSON log API through :4318, and one by one each store server and each Heimdall service killed with
// SIGKILL, then restarted. For each: what clients saw meanwhile, the time to recover once restarted; at the end,
// whether every acknowledged item is stored exactly once. `npm run drill`; exits 1 when any of that fails.
import { setTimeout as sleep } from 'node:timers/promises';
import { AgentLoad, type Outcome, SIGNALS, acknowledged, countStored, retryLater, storedTable } from './agent-load.js';
import { loadAverage, startSupervisedSystem } from './supervised-system.js';

/** How long each part stays down before it is restarted. */
const OUTAGE_MS = 15_000;
const RECOVERY_LIMIT_MS = 180_000;
const GATEWAY = '@heimdall/gateway';

interface DrillResult {
  readonly target: string;
  readonly requests: number;
  readonly acknowledged: number;
  readonly retryLater: number;
  /**
   * Only when the gateway itself dies: the pushes in flight lose their connection, and until it is back nothing
   * listens on :4318; agents retry both as any outage.
   */
  readonly noAnswer: number;
  /** Anything else: another status, a 503 without Retry-After, an answer later than HANG_MS. */
  readonly wrong: readonly string[];
  readonly slowestMs: number;
  readonly recoveryMs: number | undefined;
}

/** From the restart: the time until every signal had a push acknowledged that started after it. */
async function recovery(load: AgentLoad, restartedAt: number): Promise<number | undefined> {
  while (Date.now() - restartedAt < RECOVERY_LIMIT_MS) {
    const recovered = SIGNALS.map((signal) =>
      load.outcomes.find((o) => o.signal === signal && o.startedAt >= restartedAt && acknowledged(o)),
    );
    if (recovered.every((o) => o !== undefined))
      return Math.max(...recovered.map((o) => o.startedAt + o.ms)) - restartedAt;
    await sleep(200);
  }
  return undefined;
}

const CONNECTION_LOST: ReadonlySet<Outcome['status']> = new Set(['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET']);

function summarise(target: string, outcomes: readonly Outcome[], recoveryMs: number | undefined): DrillResult {
  const refused = (o: Outcome) => target === GATEWAY && CONNECTION_LOST.has(o.status);
  const wrong = outcomes.filter((o) => !acknowledged(o) && !retryLater(o) && !refused(o));
  return {
    target,
    requests: outcomes.length,
    acknowledged: outcomes.filter(acknowledged).length,
    retryLater: outcomes.filter(retryLater).length,
    noAnswer: outcomes.filter(refused).length,
    wrong: [...new Set(wrong.map((o) => `${o.signal} ${o.status}${o.retryAfter ? '' : ' (no Retry-After)'}`))],
    slowestMs: Math.max(0, ...outcomes.map((o) => o.ms)),
    recoveryMs,
  };
}

function resultTable(results: readonly DrillResult[]): string {
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const rows = results.map(
    (r) =>
      `| ${r.target} | ${r.requests} | ${r.acknowledged} | ${r.retryLater} | ${r.noAnswer} | ${r.wrong.length === 0 ? 'none' : r.wrong.join(', ')} | ${seconds(r.slowestMs)} | ${r.recoveryMs === undefined ? `not within ${RECOVERY_LIMIT_MS / 1000} s` : seconds(r.recoveryMs)} |`,
  );
  return [
    '| killed | requests | acknowledged | 503/429 + Retry-After | no answer (gateway down) | anything else | slowest answer | recovered after restart |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

async function main(): Promise<void> {
  console.log(`load average ${loadAverage()} at the start`);
  const system = await startSupervisedSystem();
  try {
    const { stack, supervisor } = system;
    const load = new AgentLoad(system.agentKey);
    load.start();
    await sleep(10_000);
    const results = [summarise('none (steady load)', load.outcomes.slice(), 0)];

    const targets: { name: string; kill(): Promise<void>; restart(): Promise<void> }[] = [
      ...stack.stack.servers.map((server) => ({
        name: server.name,
        async kill() {
          const record = await stack.stack.process(server);
          if (record === undefined) return;
          process.kill(record.pid, 'SIGKILL');
          // `up` starts only what is not running.
          while ((await stack.stack.process(server)) !== undefined) await sleep(100);
        },
        async restart() {
          await stack.stack.up([server]);
        },
      })),
      ...system.services.map((service) => ({
        name: service.name,
        kill() {
          const pid = supervisor.pid(service.name);
          if (pid !== undefined) process.kill(-pid, 'SIGKILL');
          return Promise.resolve();
        },
        // The supervisor starts it again, as under `npm start`.
        async restart() {
          while (supervisor.pid(service.name) === undefined) await sleep(100);
        },
      })),
    ];

    for (const target of targets) {
      console.log(`kill -9 ${target.name} (load average ${loadAverage()})`);
      const mark = load.outcomes.length;
      await target.kill();
      await sleep(OUTAGE_MS);
      await target.restart();
      const recoveryMs = await recovery(load, Date.now());
      await sleep(5_000);
      const result = summarise(target.name, load.outcomes.slice(mark), recoveryMs);
      results.push(result);
      console.log(JSON.stringify(result));
    }
    await load.stop();
    const stored = await countStored(load, system.adminToken, stack.endpoints.elasticsearchUrl);

    console.log(`\nload average ${loadAverage()} at the end\n\n${resultTable(results)}\n\n${storedTable(stored)}`);
    console.log(`\nrestarts by the supervisor: ${JSON.stringify(supervisor.restartCounts())}`);
    const failed =
      results.some((r) => r.wrong.length > 0 || r.recoveryMs === undefined) ||
      Object.values(stored).some((v) => v.missing + v.duplicated > 0);
    process.exitCode = failed ? 1 : 0;
  } finally {
    await system.stop();
  }
}

await main();
