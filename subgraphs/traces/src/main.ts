import { loadConfigOrExit } from '@heimdall/shared/config';
import { ConsulClient } from '@heimdall/shared/discovery';
import { runUntilSignalled } from '@heimdall/shared/http';
import { tracesEnvSchema } from './config.js';
import { createServer } from './server.js';

const config = loadConfigOrExit(tracesEnvSchema, process.env);
const platform = await createServer(config, { consul: new ConsulClient(config.CONSUL_URL) });
await runUntilSignalled(platform.service, { host: config.HOST, port: config.PORT }, platform.logger, () =>
  Promise.resolve(),
);
