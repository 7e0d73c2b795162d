// What the page needs to know about this server and its visitor: the
// visitor's address, how to name this server in commands (a proxy's public
// name, not a private address), the operator's facts about the server, what a
// visitor may choose, and the three-network return routes.
import { networkInterfaces } from 'node:os';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import ipaddr from 'ipaddr.js';
import { refuse, visitorAddress } from '../context.js';
import { RETURN_ROUTES_POLL_S } from '../return-routes.js';
import { OpenAnswer, PROTOCOLS, RefusalAnswer, WhoamiAnswer } from '../schemas.js';
import { originOf } from '../views.js';
import { hostName, requestedHost } from '../forwarded.js';

/** This machine's public addresses (the operator may list them instead: behind NAT they are not here). */
function publicAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((i) => i && !i.internal)
    .map((i) => i?.address ?? '')
    .filter((a) => ipaddr.isValid(a) && ipaddr.process(a).range() === 'unicast');
}

const site: FastifyPluginAsyncTypebox = async (app) => {
  const { opts, limits, asnIndex } = app.lg;
  const facts = opts.site ?? {};
  const addresses = (facts.addresses ?? publicAddresses()).map((address) => ({
    address,
    ...originOf(address, asnIndex),
  }));

  /** How commands name this server: --public-host, else the name the visitor used (through a trusted proxy). */
  const serverName = (req: FastifyRequest): string => {
    if (opts.publicHost) return opts.publicHost;
    const host = requestedHost(req.headers, req.socket.remoteAddress, opts.trustProxy ?? []);
    return host ? hostName(host) : (req.socket.localAddress?.replace(/^::ffff:/, '') ?? '');
  };

  app.get('/api/v1/whoami', { schema: { response: { 200: WhoamiAnswer } } }, async (req) => {
    const address = visitorAddress(req);
    return {
      address,
      family: address.includes(':') ? (6 as const) : (4 as const),
      server: serverName(req),
      uploadLimit: limits.uploadLimit,
      choices: { protocols: [...PROTOCOLS], maxCount: limits.maxCount, defaultCount: limits.defaultCount },
      site: {
        name: facts.name ?? null,
        location: facts.location ?? null,
        description: facts.description ?? null,
        addresses,
        hosts: facts.hosts ?? {},
      },
      returnRoutes: app.lg.returnRoutes !== undefined,
      watch: opts.watch !== undefined,
    };
  });

  // The page polls this: it answers at once (a run, at most one per period, goes on in the background).
  app.get(
    '/api/v1/return-routes',
    { schema: { response: { 200: OpenAnswer, '4xx': RefusalAnswer } } },
    async (_req, reply) => {
      const routes = app.lg.returnRoutes;
      if (!routes) return refuse(reply, 404, { code: 'return-routes-off' }, 'invalid');
      const answer = routes.peek();
      void reply.header('cache-control', 'no-store');
      if (answer.status === 'running') void reply.header('retry-after', String(RETURN_ROUTES_POLL_S));
      return answer as Record<string, unknown>;
    },
  );
};

export default site;
