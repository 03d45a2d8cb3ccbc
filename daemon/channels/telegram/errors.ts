// What a failed Bot API call means for the gateway. grammY keeps two kinds apart: GrammyError
// (Telegram answered and said no: error_code, description, parameters) and HttpError (the
// request never got an answer: network loss, timeout). Messages are redacted before logging,
// because a transport error's text can hold the request URL, and the URL holds the token.
import { GrammyError, HttpError } from "grammy";

export type Failure =
  | { kind: "rate-limited"; retryAfterMs: number }
  | { kind: "conflict" }
  | { kind: "unauthorized" }
  | { kind: "bad-markup" }
  | { kind: "rejected"; code: number }
  | { kind: "network" }
  | { kind: "server"; code: number };

export function classify(error: unknown): Failure {
  if (error instanceof GrammyError) {
    const code = error.error_code;
    if (code === 429) return { kind: "rate-limited", retryAfterMs: (error.parameters.retry_after ?? 5) * 1000 };
    if (code === 409) return { kind: "conflict" };
    if (code === 401 || code === 404) return { kind: "unauthorized" };
    if (code === 400 && /can't parse entities/i.test(error.description)) return { kind: "bad-markup" };
    if (code >= 500) return { kind: "server", code };
    return { kind: "rejected", code };
  }
  if (error instanceof HttpError) return { kind: "network" };
  return { kind: "network" };
}

/** Whether waiting and trying the same call again can help. */
export const isTransient = (failure: Failure) => failure.kind === "rate-limited" || failure.kind === "network" || failure.kind === "server";

/** The error's message with the bot token (and anything after /bot in a URL) masked. */
export function describe(error: unknown, token: string): string {
  const parts = [error instanceof Error ? error.message : String(error)];
  if (error instanceof HttpError && error.error instanceof Error) parts.push(error.error.message);
  return parts.join(": ").split(token).join("<token>").replace(/\/bot[^/\s]+\//g, "/bot<token>/");
}
