import { Router } from 'express';
import type { Lifecycle } from '../../lib/lifecycle';
import type { Metrics } from '../../lib/metrics';

export type ReadinessCheck = () => Promise<Record<string, boolean>>;

/**
 * /health: the process is alive. /ready: every dependency answers and the node
 * is not draining (503 otherwise, so a load balancer stops sending traffic).
 */
export function healthRoutes(readiness: ReadinessCheck, lifecycle: Lifecycle): Router {
  const router = Router();
  router.get('/health', (_req, res) => {
    res.json({ success: true, status: 'ok', uptime_s: Math.round(process.uptime()) });
  });
  router.get('/ready', async (_req, res) => {
    const checks = await readiness().catch(() => ({ database: false }));
    if (lifecycle.draining) Object.assign(checks, { accepting_traffic: false });
    const ready = Object.values(checks).every(Boolean);
    res
      .status(ready ? 200 : 503)
      .json({ success: ready, status: ready ? 'ready' : 'unavailable', checks });
  });
  return router;
}

/** Prometheus text format. Expose it on an internal network only. */
export function metricsRoute(metrics: Metrics): Router {
  const router = Router();
  router.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });
  return router;
}
