import { Client } from '@elastic/elasticsearch';
import { Redis } from 'ioredis';
import { loadConfigOrExit } from '@heimdall/shared/config';
import { ConsulClient } from '@heimdall/shared/discovery';
import { runUntilSignalled } from '@heimdall/shared/http';
import { logsEnvSchema } from './config.js';
import { createServer } from './server.js';

const config = loadConfigOrExit(logsEnvSchema, process.env);
const elasticsearch = new Client({
  node: config.ELASTICSEARCH_URL,
  ...(config.ELASTICSEARCH_USERNAME === undefined
    ? {}
    : { auth: { username: config.ELASTICSEARCH_USERNAME, password: config.ELASTICSEARCH_PASSWORD ?? '' } }),
});
const redis = new Redis(config.REDIS_URL);
const platform = await createServer(config, { consul: new ConsulClient(config.CONSUL_URL), elasticsearch, redis });
await runUntilSignalled(platform.service, { host: config.HOST, port: config.PORT }, platform.logger, async () => {
  await elasticsearch.close();
  await redis.quit();
});
