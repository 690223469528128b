// The baseline of bench/src/front-door.ts: a stock @apollo/gateway set-up, run as its own process. A plain
// ApolloServer (its standalone HTTP server) over an ApolloGateway with a static supergraph composed once at start
// from the same subgraphs, and no Heimdall plugin: no authentication, rate limit, query limits, resilience
// policy or tracing. It adds to each subgraph call only what the subgraphs require to answer at all, an internal
// token (signed once per half minute, as Heimdall's gateway does). The `service(name)` entry point that
// Heimdall's gateway serves in-process is served here the same way, by a LocalGraphQLDataSource.
//
// Environment: STOCK_SUBGRAPHS (JSON [{ name, url }]), SERVICE_AUTH_SECRET, PORT. Prints {"event":"ready","url":…}.
import { composeServices } from '@apollo/composition';
import { ApolloGateway, LocalGraphQLDataSource, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { type Caller, ServiceTokens } from '@heimdall/shared/auth';

const subgraphs = JSON.parse(process.env.STOCK_SUBGRAPHS ?? '[]') as { name: string; url: string }[];
const tokens = new ServiceTokens({
  service: 'stock-gateway',
  secrets: (process.env.SERVICE_AUTH_SECRET ?? '').split(','),
});
const viewer: Caller = { kind: 'user', subject: 'bench', roles: ['viewer'] };

const catalogTypeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Service @key(fields: "name") { name: String! }
  type Query { service(name: String!): Service! }
`);
const catalog = buildSubgraphSchema([
  {
    typeDefs: catalogTypeDefs,
    resolvers: {
      Query: { service: (_: unknown, args: { name: string }) => ({ name: args.name }) },
      Service: { __resolveReference: (ref: { name: string }) => ({ name: ref.name }) },
    },
  },
]);

const sdls = await Promise.all(
  subgraphs.map(async ({ name, url }) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await tokens.headers()) },
      body: JSON.stringify({ query: '{ _service { sdl } }' }),
    });
    const body = (await response.json()) as { data: { _service: { sdl: string } } };
    return { name, url, typeDefs: parse(body.data._service.sdl) };
  }),
);
const composed = composeServices([
  { name: 'catalog', url: 'http://catalog.local/graphql', typeDefs: catalogTypeDefs },
  ...sdls,
]);
if (composed.errors !== undefined) throw new Error(composed.errors.map((e) => e.message).join('\n'));

const gateway = new ApolloGateway({
  supergraphSdl: composed.supergraphSdl,
  buildService: ({ name, url }) =>
    name === 'catalog'
      ? new LocalGraphQLDataSource(catalog)
      : new RemoteGraphQLDataSource({
          url,
          async willSendRequest({ request }) {
            for (const [header, value] of Object.entries(await tokens.headers(viewer)))
              request.http?.headers.set(header, value);
          },
        }),
});
// Exits by itself on SIGTERM (so that a CPU profile, when asked for, is written), rather than re-raising it.
const server = new ApolloServer({ gateway, stopOnTerminationSignals: false });
process.once('SIGTERM', () => void server.stop().then(() => process.exit(0)));
const { url } = await startStandaloneServer(server, {
  listen: { host: '127.0.0.1', port: Number(process.env.PORT ?? 0) },
});
console.log(JSON.stringify({ event: 'ready', url }));
