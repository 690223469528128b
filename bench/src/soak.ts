// Soak (issue 17): the system as `npm start` runs it on a private stack under a steady load of all four ingest paths
// for SOAK_MINUTES (30): resident memory of every process sampled each minute (growth from the end of the warm-up,
// a tenth of the run, to the end; in all and its anonymous part, what a leak grows, apart from a store's mapped data
// files), every answer that is not an acknowledgement counted as an error, and each service's event-loop lag p99
// from its /metrics. `npm run soak`; exits 1 on an error, on a Heimdall service growing over 10%, or on any
// process's anonymous memory growing over 10%.
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { residentMemory } from '@heimdall/stack';
import { AgentLoad, acknowledged } from './agent-load.js';
import { percentile } from './measure.js';
import { loadAverage, startSupervisedSystem } from './supervised-system.js';

const env = z
  .object({
    SOAK_MINUTES: z.coerce.number().positive().default(30),
    /**
     * Items per push of each path. The defaults, at about ten pushes a second, are an eighth of each path's capacity
     * measured alone (metrics 19,454 points/s, logs 4,376 records/s, traces 15,418 spans/s; see the sections above):
     * four paths sharing the machine, half its capacity in all.
     */
    SOAK_METRICS_PER_PUSH: z.coerce.number().int().positive().default(240),
    SOAK_LOGS_PER_PUSH: z.coerce.number().int().positive().default(55),
    SOAK_SPANS_PER_PUSH: z.coerce.number().int().positive().default(190),
    SOAK_LOG_API_PER_PUSH: z.coerce.number().int().positive().default(55),
    SOAK_PUSH_EVERY_MS: z.coerce.number().int().nonnegative().default(100),
  })
  .parse(process.env);

/** Where each service answers /metrics (no credentials: probes and scrapers). */
const METRICS_PORTS: Readonly<Record<string, number>> = {
  '@heimdall/gateway': 4000,
  '@heimdall/metrics': 8001,
  '@heimdall/logs': 8002,
  '@heimdall/traces': 8003,
  '@heimdall/alerts': 8004,
};

async function eventLoopLagP99(port: number): Promise<number | undefined> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) })
    .then((r) => r.text())
    .catch(() => '');
  const value = /^nodejs_eventloop_lag_p99_seconds(?:\{[^}]*\})? (\S+)$/m.exec(text)?.[1];
  return value === undefined ? undefined : Number(value);
}

async function main(): Promise<void> {
  const itemsPerPush = {
    metrics: env.SOAK_METRICS_PER_PUSH,
    logs: env.SOAK_LOGS_PER_PUSH,
    traces: env.SOAK_SPANS_PER_PUSH,
    'log-api': env.SOAK_LOG_API_PER_PUSH,
  };
  console.log(
    `load average ${loadAverage()} at the start; ${env.SOAK_MINUTES} min, pushes ${env.SOAK_PUSH_EVERY_MS} ms apart per path of ${JSON.stringify(itemsPerPush)} items`,
  );
  const system = await startSupervisedSystem();
  try {
    const load = new AgentLoad(system.agentKey, { itemsPerPush, pushEveryMs: env.SOAK_PUSH_EVERY_MS, keepIds: false });
    const samples = new Map<string, { total: number; anonymous: number }[]>();
    const lags = new Map<string, number[]>();
    const sample = async () => {
      const pids: [string, number][] = system.services.map((service) => [
        service.name,
        system.supervisor.pid(service.name) ?? 0,
      ]);
      for (const server of await system.stack.stack.status(system.stack.stack.servers))
        pids.push([server.name, server.pid ?? 0]);
      for (const [name, pid] of pids) samples.set(name, [...(samples.get(name) ?? []), await residentMemory(pid)]);
      for (const [name, port] of Object.entries(METRICS_PORTS)) {
        const lag = await eventLoopLagP99(port);
        if (lag !== undefined) lags.set(name, [...(lags.get(name) ?? []), lag]);
      }
    };

    load.start();
    const minutes = Math.ceil(env.SOAK_MINUTES);
    const warmUp = Math.max(1, Math.round(minutes / 10));
    for (let minute = 1; minute <= minutes; minute++) {
      await sleep(60_000);
      await sample();
      const errors = load.outcomes.filter((o) => !acknowledged(o)).length;
      console.log(
        `minute ${minute}: ${load.outcomes.length} pushes, ${errors} not acknowledged, load average ${loadAverage()}`,
      );
    }
    await load.stop();

    const errors = load.outcomes.filter((o) => !acknowledged(o));
    const statuses = [...new Set(errors.map((o) => `${o.signal} ${o.status}`))];
    const p99 = percentile(
      load.outcomes.map((o) => o.ms).sort((a, b) => a - b),
      99,
    );
    console.log(`\nload average ${loadAverage()} at the end`);
    console.log(
      `${load.outcomes.length} pushes, ${errors.length} not acknowledged${statuses.length === 0 ? '' : ` (${statuses.join(', ')})`}, push p99 ${p99} ms\n`,
    );
    console.log(
      '| process | RSS after warm-up | RSS at the end | growth | of which anonymous: after warm-up, at the end, growth | event-loop lag p99 (worst minute) |',
    );
    console.log('|---|---|---|---|---|---|');
    const services = new Set(system.services.map((s) => s.name));
    let grew = false;
    const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;
    const growth = (from: number, to: number) => (from === 0 ? 0 : to / from - 1);
    const percent = (g: number) => `${(g * 100).toFixed(1)}%`;
    for (const [name, series] of samples) {
      const base = series[Math.min(warmUp, series.length) - 1] ?? { total: 0, anonymous: 0 };
      const end = series.at(-1) ?? { total: 0, anonymous: 0 };
      const total = growth(base.total, end.total);
      const anonymous = growth(base.anonymous, end.anonymous);
      if (anonymous > 0.1 || (services.has(name) && total > 0.1)) grew = true;
      const lag = lags.get(name);
      console.log(
        `| ${name} | ${mib(base.total)} | ${mib(end.total)} | ${percent(total)} | ${mib(base.anonymous)}, ${mib(end.anonymous)}, ${percent(anonymous)} | ${lag === undefined ? '-' : `${(Math.max(...lag) * 1000).toFixed(0)} ms`} |`,
      );
    }
    process.exitCode = errors.length > 0 || grew ? 1 : 0;
  } finally {
    await system.stop();
  }
}

await main();
