import { consul } from './consul.js';
import { elasticsearch } from './elasticsearch.js';
import { jaeger } from './jaeger.js';
import { postgres } from './postgres.js';
import { redis } from './redis.js';
import type { Server } from './server.js';

/** The servers of the local stack, in the order `status` lists them. */
export const SERVERS: readonly Server[] = [consul, elasticsearch, jaeger, postgres, redis];
