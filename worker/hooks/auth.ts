// Checks a webhook delivery against its hook's one auth mode, in constant time: a bearer
// token, a shared token in a named header (or `?token=` where the hook allows it), or an HMAC
// of the raw body bytes, optionally with a signed timestamp that must be within the replay window.
import { createHmac } from "node:crypto";
import type { HookConfig } from "../../core/hook-config.ts";
import { bearerToken, tokensMatch } from "../http/auth.ts";

export interface Delivery {
  header(name: string): string | undefined;
  queryToken?: string;
  raw: Buffer;
  now: number;
}

/** undefined: accepted. A string: why the delivery is refused (answered with 401). */
export function refusal(hook: HookConfig, delivery: Delivery): string | undefined {
  const where = `worker.hooks.${hook.name}`;
  if (hook.auth === "hmac") return hmacRefusal(hook, delivery, where);
  const given = hook.auth === "bearer" ? bearerToken(delivery.header("authorization")) : delivery.header(hook.header);
  const presented = given ?? (hook.allowQueryToken ? delivery.queryToken : undefined);
  if (presented === undefined) {
    const how = hook.auth === "bearer" ? "`Authorization: Bearer <token>`" : `the token in ${hook.header}`;
    return `missing credentials: send ${how}${hook.allowQueryToken ? " or ?token=<token>" : ""}`;
  }
  return tokensMatch(presented, hook.token!) ? undefined : `wrong token for hook ${hook.name} (${where}.token)`;
}

function timestampMs(value: string): number | undefined {
  if (!/^\d{1,16}$/.test(value)) return undefined;
  const n = Number(value);
  return n < 1e11 ? n * 1000 : n; // seconds, or already milliseconds
}

function hmacRefusal(hook: HookConfig, delivery: Delivery, where: string): string | undefined {
  const signature = delivery.header(hook.header);
  if (!signature) return `missing ${hook.header}: the sender must sign the body with the hook's secret (${where}.secret)`;
  let signed: Buffer = delivery.raw;
  if (hook.timestampHeader) {
    const stamp = delivery.header(hook.timestampHeader);
    const at = stamp === undefined ? undefined : timestampMs(stamp.trim());
    if (at === undefined) return `missing or malformed ${hook.timestampHeader}: Unix seconds or milliseconds, signed with the body`;
    const age = Math.round((delivery.now - at) / 1000);
    if (Math.abs(age) > hook.replayWindowSeconds) {
      return `${hook.timestampHeader} is ${age} s from now, outside the ${hook.replayWindowSeconds}-second replay window (${where}.replayWindowSeconds): a replay, or a clock to fix`;
    }
    signed = Buffer.concat([Buffer.from(`${stamp!.trim()}${hook.timestampJoin}`), delivery.raw]);
  }
  const digest = createHmac(hook.algorithm, hook.secret!).update(signed).digest(hook.encoding);
  const given = hook.encoding === "hex" ? signature.trim().toLowerCase() : signature.trim();
  const expected = `${hook.encoding === "hex" ? hook.prefix.toLowerCase() : hook.prefix}${digest}`;
  return tokensMatch(given, expected) ? undefined : `${hook.header} does not match: check the hook's secret (${where}.secret), algorithm ${hook.algorithm} and prefix "${hook.prefix}"`;
}
