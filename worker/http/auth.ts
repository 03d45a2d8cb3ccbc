// Bearer-token check for POST /events: the token from the header, compared in constant time
// (core/tokens.ts, shared with the daemon's WebSocket channel).
export { tokensMatch } from "../../core/tokens.ts";

/** The token from an `Authorization: Bearer <token>` header, if there is one. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match?.[1];
}
