import { Redis } from 'ioredis';
import pg from 'pg';
import { loadConfigOrExit } from '@heimdall/shared/config';
import { ConsulClient } from '@heimdall/shared/discovery';
import { runUntilSignalled } from '@heimdall/shared/http';
import { alertsEnvSchema } from './config.js';
import { createServer } from './server.js';

const config = loadConfigOrExit(alertsEnvSchema, process.env);
const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 10 });
// Commands wait (bounded) while Redis restarts instead of failing at once; readiness reports the outage.
const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 3, lazyConnect: false });
const platform = await createServer(config, { consul: new ConsulClient(config.CONSUL_URL), pool, redis });
await runUntilSignalled(platform.service, { host: config.HOST, port: config.PORT }, platform.logger, async () => {
  await pool.end();
  redis.disconnect();
});
