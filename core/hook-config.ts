// The config of one generic webhook (worker.hooks.<name>) and the auth defaults of its presets.
// Each hook has exactly one auth mode: a bearer token, a shared token in a named header, or an
// HMAC signature over the raw body. A preset fills in what a known sender (GitLab,
// Alertmanager, Grafana, a generic HMAC signer) sends; anything set by hand wins.
import * as z from "./zod.ts";

export const HOOK_PRESETS = ["gitlab", "alertmanager", "grafana", "hmac"] as const;
export type HookPreset = (typeof HOOK_PRESETS)[number];
export type HookAuth = "bearer" | "header" | "hmac";

const secret = z.string().check(z.minLength(16, "use at least 16 characters"));
const headerName = z.string().check(z.regex(/^[A-Za-z0-9-]{1,100}$/, "an HTTP header name, e.g. X-Signature"));
const text = (min: number, max: number) => z.optional(z.string().check(z.minLength(min), z.maxLength(max)));

/** What config.json may say about one hook. */
const hookInputSchema = z.strictObject({
  preset: z.optional(z.enum(HOOK_PRESETS)),
  /** Event type; default: the preset's (e.g. gitlab.<object_kind>) or hook.<name>. */
  type: text(1, 200),
  /** Event source; default: the hook's name. */
  source: text(1, 200),
  priority: z.optional(z.enum(["low", "normal", "urgent"])),
  auth: z.optional(z.enum(["bearer", "header", "hmac"])),
  /** bearer and header modes. */
  token: z.optional(secret),
  /** hmac mode. */
  secret: z.optional(secret),
  /** header mode: the header holding the token; hmac mode: the header holding the signature. */
  header: z.optional(headerName),
  algorithm: z.optional(z.enum(["sha1", "sha256", "sha512"])),
  encoding: z.optional(z.enum(["hex", "base64"])),
  /** Text before the digest in the signature header, e.g. "sha256=". */
  prefix: text(0, 40),
  /** hmac mode: a header with the sending time (Unix seconds or ms), signed as `<ts><join><body>`. */
  timestampHeader: z.optional(headerName),
  timestampJoin: text(0, 8),
  /** Seconds a timestamped delivery stays acceptable (either way, for clock skew). */
  replayWindowSeconds: z._default(z.coerce.number().check(z.int(), z.minimum(1)), 300),
  /** A header whose value is the delivery's id: a redelivery with the same id is pushed once. */
  deliveryHeader: z.optional(headerName),
  /** bearer and header modes: also accept `?token=` (weaker: URLs end up in proxies' logs). */
  allowQueryToken: z._default(z.boolean(), false),
});

export interface HookConfig {
  name: string;
  preset?: HookPreset;
  type?: string;
  source: string;
  priority?: "low" | "normal" | "urgent";
  auth: HookAuth;
  token?: string;
  secret?: string;
  header: string;
  algorithm: "sha1" | "sha256" | "sha512";
  encoding: "hex" | "base64";
  prefix: string;
  timestampHeader?: string;
  timestampJoin: string;
  replayWindowSeconds: number;
  deliveryHeader?: string;
  allowQueryToken: boolean;
}

type PresetDefaults = Partial<Pick<HookConfig, "auth" | "header" | "algorithm" | "encoding" | "prefix" | "timestampHeader" | "timestampJoin" | "deliveryHeader">>;

const PRESET_DEFAULTS: Record<HookPreset, PresetDefaults> = {
  // GitLab sends the hook's "secret token" verbatim and keeps Idempotency-Key across retries.
  gitlab: { auth: "header", header: "X-Gitlab-Token", deliveryHeader: "Idempotency-Key" },
  // Alertmanager's webhook_config http_config.authorization and Grafana's webhook contact
  // point (Authorization header scheme Bearer) both send a bearer token.
  alertmanager: { auth: "bearer" },
  grafana: { auth: "bearer" },
  hmac: {
    auth: "hmac",
    header: "X-Signature-256",
    prefix: "sha256=",
    timestampHeader: "X-Timestamp",
    deliveryHeader: "X-Delivery-Id",
  },
};

/** The header each mode reads when none is configured. */
const DEFAULT_HEADER: Record<HookAuth, string> = { bearer: "Authorization", header: "X-Hook-Token", hmac: "X-Signature-256" };

const HOOK_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export const hooksSchema = z.pipe(
  z._default(z.record(z.string(), hookInputSchema), {}),
  z.transform((hooks, ctx) => {
    const resolved: Record<string, HookConfig> = {};
    for (const [name, input] of Object.entries(hooks)) {
      const preset = input.preset ? PRESET_DEFAULTS[input.preset] : {};
      const auth = input.auth ?? preset.auth;
      const issue = (field: string, message: string) => z.addIssue(ctx, message, [name, field]);
      if (!HOOK_NAME.test(name) || name === "github") {
        z.addIssue(ctx, name === "github" ? '"github" is taken by the built-in /hooks/github route; pick another name' : "a hook name is 1-64 characters of a-z 0-9 _ - (it is the URL /hooks/<name>)", [name]);
        continue;
      }
      if (!auth) {
        issue("auth", 'choose one: "bearer", "header" (a shared token in a header) or "hmac" (a signature over the body), or a preset');
        continue;
      }
      if (auth === "hmac" && !input.secret) issue("secret", "hmac mode needs the signing secret");
      if (auth !== "hmac" && !input.token) issue("token", `${auth} mode needs the token the sender presents`);
      if (auth === "hmac" && input.allowQueryToken) issue("allowQueryToken", "a signed hook takes no ?token=");
      resolved[name] = {
        name,
        preset: input.preset,
        type: input.type,
        source: input.source ?? name,
        priority: input.priority,
        auth,
        token: input.token,
        secret: input.secret,
        header: input.header ?? preset.header ?? DEFAULT_HEADER[auth],
        algorithm: input.algorithm ?? preset.algorithm ?? "sha256",
        encoding: input.encoding ?? preset.encoding ?? "hex",
        prefix: input.prefix ?? preset.prefix ?? "",
        timestampHeader: input.timestampHeader ?? preset.timestampHeader,
        timestampJoin: input.timestampJoin ?? preset.timestampJoin ?? ".",
        replayWindowSeconds: input.replayWindowSeconds,
        deliveryHeader: input.deliveryHeader ?? preset.deliveryHeader,
        allowQueryToken: input.allowQueryToken,
      };
    }
    return resolved;
  }),
);
