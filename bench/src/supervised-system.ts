// The system as `npm start` runs it (every Heimdall service a supervised process of its own, restarted when it dies)
// on a private stack of its own, for drills and soaks that kill or watch processes: the shared stack is never touched.
import { loadavg } from 'node:os';
import {
  type PrivateStack,
  SERVERS,
  type Service,
  type Supervisor,
  ensureAgentKey,
  ensureNotificationKey,
  ensureSigningKeys,
  findServices,
  isListening,
  localAuthFiles,
  mintCredentials,
  privateStack,
  processSupervisor,
  REPO_DIR,
  serviceAuthEnv,
  serviceEnvironment,
} from '@heimdall/stack';
import { GRAPHQL_URL } from './agent-load.js';

export interface SupervisedSystem {
  readonly stack: PrivateStack;
  readonly supervisor: Supervisor;
  readonly services: readonly Service[];
  readonly adminToken: string;
  readonly viewerToken: string;
  readonly agentKey: string;
  stop(): Promise<void>;
}

/** Services on their usual ports (4000, 4318, 8001-8004), as `npm start` has them: they must be free. */
export async function startSupervisedSystem(): Promise<SupervisedSystem> {
  for (const port of [4000, 4318, 8001, 8002, 8003, 8004]) {
    if (await isListening(port))
      throw new Error(`port ${port} is taken (is \`npm start\` running?): the services run on their own ports`);
  }
  const stack = await privateStack(
    SERVERS.map((s) => s.name),
    process.env,
  );
  // Restarts start over at the first delay after 10 s up, so one drill's restart does not slow the next one's.
  const supervisor = processSupervisor({ stableAfterMs: 10_000 });
  const stop = async () => {
    await supervisor.stop();
    await stack.remove();
  };
  try {
    const auth = localAuthFiles(stack.config.stackDir);
    const { privateKeyPem } = await ensureSigningKeys(auth);
    const env = {
      ...serviceEnvironment(stack.endpoints, process.env),
      ...serviceAuthEnv(process.env, auth),
      ...(await ensureNotificationKey(auth, process.env)),
      NODE_ENV: 'production',
    };
    const found = await findServices(REPO_DIR);
    for (const outcome of [
      ...(await supervisor.start(found.subgraphs, env)),
      ...(await supervisor.start(found.gateways, env)),
    ])
      console.log(outcome);
    const { adminToken, viewerToken } = await mintCredentials(privateKeyPem, process.env);
    const agentKey = await ensureAgentKey(GRAPHQL_URL, adminToken, undefined);
    return {
      stack,
      supervisor,
      services: [...found.subgraphs, ...found.gateways],
      adminToken,
      viewerToken,
      agentKey,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

export function loadAverage(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}
