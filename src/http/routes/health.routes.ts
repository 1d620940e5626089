import { Router } from 'express';

export type ReadinessCheck = () => Promise<Record<string, boolean>>;

/** /health: the process is alive. /ready: every dependency answers (503 otherwise). */
export function healthRoutes(readiness: ReadinessCheck): Router {
  const router = Router();
  router.get('/health', (_req, res) => {
    res.json({ success: true, status: 'ok', uptime_s: Math.round(process.uptime()) });
  });
  router.get('/ready', async (_req, res) => {
    const checks = await readiness().catch(() => ({ database: false }));
    const ready = Object.values(checks).every(Boolean);
    res
      .status(ready ? 200 : 503)
      .json({ success: ready, status: ready ? 'ready' : 'unavailable', checks });
  });
  return router;
}
