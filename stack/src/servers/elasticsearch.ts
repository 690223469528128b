import { cp, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { accountWhenRoot, chownTree, runRecipe } from '../install.js';
import { httpGet } from '../net.js';
import type { Server } from './server.js';

export const elasticsearch: Server = {
  name: 'elasticsearch',
  stopSignal: 'SIGTERM',
  startTimeoutMs: 180_000,
  port: (config) => config.elasticsearch.port,
  ports: (config) => [
    { port: config.elasticsearch.port, variable: 'ES_PORT' },
    { port: config.elasticsearch.transportPort, variable: 'ES_TRANSPORT_PORT' },
  ],
  install: async (config) => ({ path: await runRecipe(config, 'elasticsearch') }),
  async prepare(config, installed, dir) {
    // Elasticsearch refuses to run as root.
    const account = accountWhenRoot('heimdall');
    const conf = join(dir, 'config');
    // Its own copy of the config dir: Elasticsearch writes its keystore there, and the install is shared.
    if (!existsSync(conf)) await cp(join(installed.path, 'config'), conf, { recursive: true });
    await mkdir(join(dir, 'data'), { recursive: true });
    await mkdir(join(dir, 'logs'), { recursive: true });
    await mkdir(join(dir, 'tmp'), { recursive: true });
    chownTree(dir, account);
    const es = config.elasticsearch;
    return {
      command: join(installed.path, 'bin', 'elasticsearch'),
      args: [
        `-Epath.data=${join(dir, 'data')}`,
        `-Epath.logs=${join(dir, 'logs')}`,
        '-Ecluster.name=heimdall',
        '-Enode.name=heimdall-local',
        '-Enetwork.host=127.0.0.1',
        `-Ehttp.port=${es.port}`,
        `-Etransport.port=${es.transportPort}`,
        '-Ediscovery.type=single-node',
        // With security on, the first start writes certificates and then fails on a setting this build lacks.
        '-Expack.security.enabled=false',
        // A nearly full development disk must not turn the indices read-only.
        '-Ecluster.routing.allocation.disk.threshold_enabled=false',
      ],
      env: {
        // The install recipe links $ES_HOME/jdk to a JDK 21+, which bin/elasticsearch uses.
        ES_PATH_CONF: conf,
        ES_TMPDIR: join(dir, 'tmp'),
        HOME: dir,
        // C1 only halves the start-up time; no pre-touch keeps the unused heap out of resident memory.
        ES_JAVA_OPTS: `-Xms${es.heap} -Xmx${es.heap} -XX:TieredStopAtLevel=1 -XX:-AlwaysPreTouch`,
      },
      ...account,
    };
  },
  async ready(config) {
    // `GET /` answers 405 on this distribution: cluster health is the probe.
    const health = await httpGet(config.elasticsearch.port, '/_cluster/health');
    return health?.status === 200 && /"status":"(green|yellow)"/.test(health.body);
  },
  async version(config) {
    const nodes = await httpGet(config.elasticsearch.port, '/_nodes/_local?filter_path=nodes.*.version');
    return nodes?.status === 200 ? /"version":"([^"]+)"/.exec(nodes.body)?.[1] : undefined;
  },
};
