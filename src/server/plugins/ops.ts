// For the operator: /healthz for a load balancer, /metrics for Prometheus
// (loopback or --metrics-allow only, by the connection's own address).
import type { FastifyInstance } from 'fastify';
import { refuse } from '../context.js';
import { addressInCidrs } from '../targets.js';

export default async function ops(app: FastifyInstance): Promise<void> {
  const metricsAllow = app.lg.opts.metricsAllow ?? ['127.0.0.0/8', '::1/128'];
  // Health checks (a load balancer polls from one address) are not counted against the request rate.
  app.get('/healthz', { config: { rateLimit: false } }, async (_req, reply) => {
    const ok = app.store.ping();
    return reply
      .code(ok ? 200 : 503)
      .send({ status: ok ? 'ok' : 'database unavailable', tracesRunning: app.runner.running });
  });
  app.get('/metrics', async (req, reply) => {
    // By the connection's own address: X-Forwarded-For cannot open it.
    if (!addressInCidrs(req.socket.remoteAddress ?? '', metricsAllow))
      return refuse(reply, 403, { code: 'metrics-forbidden' }, 'metrics');
    return reply.type(app.metrics.registry.contentType).send(await app.metrics.registry.metrics());
  });
}
