// Comparing a secret someone sent with the configured one, in constant time: both sides are
// hashed first, so the time taken depends neither on where they differ nor on either length.
import { createHash, timingSafeEqual } from "node:crypto";

const digest = (text: string) => createHash("sha256").update(text).digest();

/** True when `given` is a string equal to `expected`. */
export function tokensMatch(given: unknown, expected: string): boolean {
  if (typeof given !== "string") return false;
  return timingSafeEqual(digest(given), digest(expected));
}
