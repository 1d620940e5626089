import { body, param, query, type ValidationChain } from 'express-validator';

const isScalarString = (value: unknown) => typeof value === 'string';

/**
 * A route parameter that must be a 24-hex ObjectId, lowercased: ids name rooms
 * and cache keys, so `ABC…` and `abc…` must be one conversation everywhere (a
 * removal by an uppercase id once left the removed user's sockets in the rooms).
 */
export function objectIdParam(name: string): ValidationChain {
  return param(name).isMongoId().withMessage('must be a valid id').bail().toLowerCase();
}

/**
 * An optional positive integer query value. Repeated keys (arrays) and anything
 * non-numeric are rejected; values above `cap` are clamped to it.
 */
export function positiveIntQuery(name: string, cap?: number, min = 1): ValidationChain {
  let chain = query(name)
    .optional()
    .custom(isScalarString)
    .withMessage('must be a single value')
    .bail()
    .isInt({ min, max: 1_000_000_000 })
    .withMessage(`must be an integer of at least ${min}`)
    .bail()
    .toInt();
  if (cap !== undefined) chain = chain.customSanitizer((n: number) => Math.min(n, cap));
  return chain;
}

/**
 * Express 5's simple query parser reads `?page[$gt]=1` as a literal key
 * "page[$gt]", so `page` would silently fall back to its default. A bracketed
 * form of a known parameter is an object where a scalar is expected: refuse it.
 */
export function noBracketedQuery(name: string): ValidationChain {
  return query(name)
    .custom(
      (_value, { req }) => !Object.keys(req.query ?? {}).some((key) => key.startsWith(`${name}[`)),
    )
    .withMessage('must be a single value');
}

/** An optional opaque string query value such as a cursor. */
export function stringQuery(name: string, maxLength: number): ValidationChain {
  return query(name)
    .optional()
    .custom(isScalarString)
    .withMessage('must be a single string')
    .bail()
    .isLength({ min: 1, max: maxLength })
    .withMessage(`must be 1-${maxLength} characters`);
}

/** An optional string body field, trimmed and bounded. `null` counts as absent. */
export function optionalStringBody(name: string, maxLength: number): ValidationChain {
  return body(name)
    .optional({ values: 'null' })
    .custom(isScalarString)
    .withMessage('must be a string')
    .bail()
    .trim()
    .isLength({ min: 1, max: maxLength })
    .withMessage(`must be 1-${maxLength} characters`);
}

/**
 * An optional body field holding one id. Standard validators check an array
 * element by element (and pass an empty one), so the value must be a string first.
 */
export function mongoIdBody(name: string): ValidationChain {
  // null means absent, as for every other optional field (client_message_id, listing_id).
  return body(name)
    .optional({ values: 'null' })
    .custom(isScalarString)
    .withMessage('must be a valid id')
    .bail()
    .isMongoId()
    .withMessage('must be a valid id');
}

export function mongoIdArrayBody(name: string, max: number): ValidationChain[] {
  return [
    body(name).optional().isArray({ min: 1, max }).withMessage(`must be an array of 1-${max} ids`),
    // Each element must itself be a string: `[["<id>"]]` would otherwise pass.
    body(`${name}.*`)
      .custom(isScalarString)
      .withMessage('must be a valid id')
      .bail()
      .isMongoId()
      .withMessage('must be a valid id'),
  ];
}
