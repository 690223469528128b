// Started by federation.int.test.ts as its own process: the whole system, started and stopped in-process, must
// leave nothing behind that keeps the process alive. Exits by itself, or never. The test's environment comes as
// JSON in the first argument.
import { localStack } from '@heimdall/stack';
import { System } from './system.js';

const env = JSON.parse(process.argv[2] ?? '{}') as Record<string, string | undefined>;
const system = await System.create(localStack(env), env.CLICKHOUSE_URL);
await system.startSubgraph('metrics');
await system.startGateway({ OTLP_TRACES_URL: 'off' });
await system.stop();
