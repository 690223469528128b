import { ConsulClient, loadConfigOrExit, runUntilSignalled } from '@heimdall/shared';
import { gatewayEnvSchema } from './config.js';
import { createServer } from './server.js';

const config = loadConfigOrExit(gatewayEnvSchema, process.env);
const gateway = await createServer(config, { consul: new ConsulClient(config.CONSUL_URL) });
await gateway.otlp.listen(config.HOST, config.OTLP_PORT);
await runUntilSignalled(gateway.service, { host: config.HOST, port: config.PORT }, gateway.logger, () => Promise.resolve());
