import { loadConfigOrExit } from '@heimdall/shared/config';
import { ConsulClient } from '@heimdall/shared/discovery';
import { runUntilSignalled } from '@heimdall/shared/http';
import { createClickHouseClient } from './store/index.js';
import { metricsEnvSchema } from './config.js';
import { createServer } from './server.js';

const config = loadConfigOrExit(metricsEnvSchema, process.env);
const clickhouse = createClickHouseClient({
  url: config.CLICKHOUSE_URL,
  username: config.CLICKHOUSE_USER,
  password: config.CLICKHOUSE_PASSWORD,
  database: config.CLICKHOUSE_DATABASE,
  dataDir: config.CLICKHOUSE_DATA_DIR,
});
const platform = await createServer(config, { consul: new ConsulClient(config.CONSUL_URL), clickhouse });
await runUntilSignalled(platform.service, { host: config.HOST, port: config.PORT }, platform.logger, () =>
  clickhouse.close(),
);
