// Secrets out of what is shown: a Redis URL with its password (and any password-like query
// parameter) replaced by ***, for logs, messages, `status` and setup's output. Errs on the side
// of hiding: everything between the scheme and the last "@" counts as credentials, so a password
// holding "@", "/" or "?" is hidden whole.
const SCHEME = /^(?:[a-z][a-z0-9+.-]*:)?\/\//i;
const SECRET_PARAM = /([?&][^=&#]*pass[^=&#]*=)[^&#]*/gi;

/** The URL with credentials masked: `redis://user:***@host:6379/2?password=***`. */
export function maskUrl(url: string): string {
  const schemeEnd = SCHEME.exec(url)?.[0].length ?? 0;
  const at = url.lastIndexOf("@");
  let shown = url;
  // A unix socket path ("/tmp/redis.sock?...") has no credentials part.
  if (at >= schemeEnd && !(schemeEnd === 0 && url.startsWith("/"))) {
    const credentials = url.slice(schemeEnd, at);
    const colon = credentials.indexOf(":");
    // "user:pass" keeps the user; a lone "secret@" may be a password written as a user name.
    const masked = colon === -1 ? "***" : `${credentials.slice(0, colon)}:***`;
    shown = url.slice(0, schemeEnd) + masked + url.slice(at);
  }
  return shown.replace(SECRET_PARAM, "$1***");
}
