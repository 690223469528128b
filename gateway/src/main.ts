import { Redis } from 'ioredis';
import { loadConfigOrExit } from '@heimdall/shared/config';
import { ConsulClient } from '@heimdall/shared/discovery';
import { runUntilSignalled } from '@heimdall/shared/http';
import { gatewayEnvSchema } from './config.js';
import { createServer } from './server.js';

const config = loadConfigOrExit(gatewayEnvSchema, process.env);
// A slow or unreachable Redis delays each request by at most this: API keys and rate limits then answer from memory or 503.
const redis = new Redis(config.REDIS_URL, { commandTimeout: 1000, maxRetriesPerRequest: 1 });
const gateway = await createServer(config, { consul: new ConsulClient(config.CONSUL_URL), redis });
const otlpPort = await gateway.otlp.listen(config.HOST, config.OTLP_PORT);
gateway.logger.info(
  { event: 'otlp_listening', url: `http://${config.HOST}:${otlpPort}` },
  `OTLP/HTTP for agents at http://${config.HOST}:${otlpPort}`,
);
await runUntilSignalled(gateway.service, { host: config.HOST, port: config.PORT }, gateway.logger, () => {
  redis.disconnect();
  return Promise.resolve();
});
