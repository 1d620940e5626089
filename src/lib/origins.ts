/**
 * Browser origins allowed to call the REST API (CORS) and to open sockets.
 * A request without an Origin header is not a browser page (mobile apps,
 * servers): CORS does not concern it, so it is allowed; the token decides.
 */
export function isOriginAllowed(origin: string | undefined, allowList: string[]): boolean {
  if (!origin) return true;
  return allowList.includes('*') || allowList.includes(origin);
}
