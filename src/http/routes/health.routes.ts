import { createHash, timingSafeEqual } from 'node:crypto';
import { Router } from 'express';
import type { Lifecycle } from '../../lib/lifecycle';
import type { MetricsAccess } from '../../config';
import { bearerToken } from '../../lib/jwt';
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

/** Prometheus text format, for the callers `access` lets in (401 for the others). */
export function metricsRoute(metrics: Metrics, access: MetricsAccess): Router {
  const router = Router();
  if (access === 'off') return router;
  const expected = access === 'open' ? null : digest(access.token);
  router.get('/metrics', async (req, res) => {
    const presented = bearerToken(req.headers.authorization);
    if (expected && !(presented && timingSafeEqual(digest(presented), expected))) {
      res.status(401).json({
        success: false,
        message: 'Metrics need the METRICS_TOKEN',
        code: 'UNAUTHENTICATED',
      });
      return;
    }
    res.setHeader('Content-Type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });
  return router;
}

/** Compared as digests, so that neither the length nor the content leaks through timing. */
const digest = (value: string): Buffer => createHash('sha256').update(value).digest();
