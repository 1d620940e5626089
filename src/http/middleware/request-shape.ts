import type { RequestHandler } from 'express';
import { AppError } from '../../lib/errors';

/**
 * HEAD on the API is refused: Express answers it with the GET handler, and some
 * GETs have effects (history marks messages read, /sync marks them delivered),
 * which a request that cannot even see the answer must not have.
 */
export const refuseHead: RequestHandler = (req, res, next) => {
  if (req.method !== 'HEAD') return next();
  res.setHeader('Allow', 'GET');
  next(new AppError('METHOD_NOT_ALLOWED'));
};

/**
 * On routes whose body is their input (send, create, add participants), a body
 * must say it is JSON: sent as text/plain (or with no type) it reached the route
 * as `{}` and got a misleading "text is required". Routes whose body is optional
 * (mark-read's Karmyq `user_id`) keep ignoring one they cannot read.
 */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  const length = req.headers['content-length'];
  const hasBody =
    req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
  next(hasBody && !req.is('json') ? new AppError('UNSUPPORTED_MEDIA_TYPE') : undefined);
};
