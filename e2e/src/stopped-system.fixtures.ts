// Started by federation.int.test.ts as its own process: the whole system, started and stopped in-process, must
// leave nothing behind that keeps the process alive. Exits by itself, or never. It finds the local stack from its
// environment, as the test does.
import { localStack } from '@heimdall/stack';
import { System } from './system.js';

const system = await System.create(localStack(process.env), process.env.CLICKHOUSE_URL);
await system.startSubgraph('metrics');
await system.startGateway({ OTLP_TRACES_URL: 'off' });
await system.stop();
