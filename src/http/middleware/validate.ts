import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { validationResult, type ValidationChain } from 'express-validator';
import { AppError, type FieldError } from '../../lib/errors';

/** Runs express-validator chains; the first failures become one 400 in the envelope. */
export function validate(chains: ValidationChain[]): RequestHandler {
  return async (req: Request, _res: Response, next: NextFunction) => {
    try {
      for (const chain of chains) await chain.run(req);
      const result = validationResult(req);
      if (result.isEmpty()) return next();
      const errors: FieldError[] = result.array({ onlyFirstError: true }).map((e) => ({
        field: e.type === 'field' ? e.path || 'body' : e.type,
        message: String(e.msg),
      }));
      const summary = errors.map((e) => `${e.field} ${e.message}`).join('; ');
      next(new AppError('VALIDATION_FAILED', `Validation failed: ${summary}`, errors));
    } catch (err) {
      next(err);
    }
  };
}
