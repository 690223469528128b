import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runRecipe } from '../install.js';
import { httpGet } from '../net.js';
import type { Server } from './server.js';

export const consul: Server = {
  name: 'consul',
  stopSignal: 'SIGTERM',
  startTimeoutMs: 60_000,
  port: (config) => config.consul.port,
  ports: (config) => [
    { port: config.consul.port, variable: 'CONSUL_PORT' },
    { port: config.consul.serverPort, variable: 'CONSUL_SERVER_PORT' },
    { port: config.consul.serfLanPort, variable: 'CONSUL_SERF_LAN_PORT' },
  ],
  install: async (config) => ({ path: await runRecipe(config, 'consul') }),
  async prepare(config, installed, dir) {
    await mkdir(join(dir, 'data'), { recursive: true });
    // A single persistent server (not -dev) so registrations and KV survive `down`/`up`.
    const settings = {
      datacenter: 'dc1',
      node_name: 'heimdall-local',
      server: true,
      bootstrap_expect: 1,
      data_dir: join(dir, 'data'),
      bind_addr: '127.0.0.1',
      client_addr: '127.0.0.1',
      advertise_addr: '127.0.0.1',
      ports: {
        http: config.consul.port,
        server: config.consul.serverPort,
        serf_lan: config.consul.serfLanPort,
        serf_wan: -1,
        dns: -1,
        grpc: -1,
        grpc_tls: -1,
        https: -1,
      },
      ui_config: { enabled: false },
      disable_update_check: true,
      log_level: 'INFO',
      log_json: true,
    };
    await writeFile(join(dir, 'consul.json'), `${JSON.stringify(settings, null, 2)}\n`);
    return { command: installed.path, args: ['agent', `-config-file=${join(dir, 'consul.json')}`] };
  },
  async ready(config) {
    const leader = await httpGet(config.consul.port, '/v1/status/leader');
    return leader?.status === 200 && leader.body.includes(':');
  },
  async version(config) {
    const self = await httpGet(config.consul.port, '/v1/agent/self');
    if (self?.status !== 200) return undefined;
    return (JSON.parse(self.body) as { Config?: { Version?: string } }).Config?.Version;
  },
};
