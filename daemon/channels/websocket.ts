// The WebSocket channel, on the daemon's port (loopback by default). Protocol, JSON frames:
//   first frame   {type:"req", id, method:"auth", params:{token}}: one attempt per connection;
//                 a wrong one is answered, the socket closed (4401) and cut, no later frame read
//   requests      {type:"req", id, method, params}  →  {type:"res", id, ok, payload | error}
//                 methods: prompt {text}, status, abort, new; over `requestsPerSecond` on one
//                 connection a request is answered {ok:false, error:{code:"refused", message}}
//   pushed        {type:"event", event, payload, seq}  (seq counts per connection)
//                 events: run {state, messageId}, delta {text, messageId}, reply {text, messageId},
//                 queue {running, waiting, human, automated, head}, tick {ts}, shutdown {reason}
//   bad frames    {type:"error", error:{code, message}} (or a res with ok:false when the
//                 frame had an id); the socket stays open.
// Before the upgrade: a browser's Origin must be in `allowedOrigins` (clients that send none
// are fine), an address with 5 failed auths within a minute is refused for 60 s, and one with
// 16 sockets already waiting to authenticate is refused until one of them has.
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import * as z from "../../core/zod.ts";
import { BackoffGate } from "../../core/backoff-gate.ts";
import type { DaemonQueueItem } from "../../core/daemon-state.ts";
import type { Logger } from "../../core/log.ts";
import { TokenBucket } from "../../core/token-bucket.ts";
import { tokensMatch } from "../../core/tokens.ts";
import type { Channel, ChannelCommand, ChannelSink, QueueView, ReplyContext, ReplyTo } from "../channel.ts";

export const WS_CHANNEL = "ws";
const MAX_FRAME_BYTES = 1024 * 1024;
const MAX_PROMPT_CHARS = 100_000;
const AUTH_TIMEOUT_MS = 10_000;
/** A refused socket gets this long to receive its close frame before it is cut. */
const CUT_AFTER_MS = 200;
/** Queue entries a `queue` event lists (the rest are only counted). */
export const QUEUE_HEAD = 10;
/** Close codes (4000-4999 are the application's). */
export const CLOSE = { unauthorized: 4401, authTimeout: 4408, shutdown: 1001 } as const;
const AUTH_BACKOFF = { maxFailures: 5, window: 60_000, blockFor: 60_000 };
/** Sockets one address may hold open before their auth frame (each is cut after AUTH_TIMEOUT_MS). */
const MAX_WAITING_PER_ADDRESS = 16;
/** Open connections of every kind at once: a local user can use every 127.x address, so the
 * per-address limits alone do not bound the daemon's file descriptors. */
export const MAX_CONNECTIONS = 256;

const requestSchema = z.object({
  type: z.literal("req"),
  id: z.union([z.string().check(z.minLength(1), z.maxLength(200)), z.number()]),
  method: z.string().check(z.minLength(1), z.maxLength(100)),
  params: z.optional(z.record(z.string(), z.unknown())),
});
type Request = z.infer<typeof requestSchema>;
const promptParams = z.object({ text: z.string().check(z.trim(), z.minLength(1, "text must not be empty"), z.maxLength(MAX_PROMPT_CHARS)) });

export interface WebSocketChannelOptions {
  host: string;
  port: number;
  token: string;
  tickInterval: number;
  /** Browser origins allowed to connect (e.g. "http://localhost:3000"); none by default. */
  allowedOrigins?: string[];
  /** Requests one connection may make per second (a burst of as many, refilled evenly). */
  requestsPerSecond?: number;
  log: Logger;
}

interface Connection {
  id: string;
  address: string;
  socket: WebSocket;
  state: "new" | "authed" | "refused";
  seq: number;
  requests: TokenBucket;
  /** The rate-limit refusal is logged once per connection, not per frame. */
  throttledLogged?: boolean;
  authTimer?: NodeJS.Timeout;
}

/** What a `queue` event carries: counts, the running entry and the head of the queue. */
export interface QueueSummary {
  running?: QueueView["running"];
  waiting: number;
  human: number;
  automated: number;
  head: DaemonQueueItem[];
}

export function summariseQueue(view: QueueView): QueueSummary {
  const human = view.waiting.filter((w) => w.kind === "human").length;
  return { running: view.running, waiting: view.waiting.length, human, automated: view.waiting.length - human, head: view.waiting.slice(0, QUEUE_HEAD) };
}

class RequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class WebSocketChannel implements Channel {
  readonly name = WS_CHANNEL;
  private readonly connections = new Map<string, Connection>();
  private server: Server | undefined;
  private wss: WebSocketServer | undefined;
  private tick: NodeJS.Timeout | undefined;
  private sink!: ChannelSink;
  private readonly failedAuth = new BackoffGate(AUTH_BACKOFF);
  /** Per address, sockets open and not yet past their auth frame. */
  private readonly waiting = new Map<string, number>();

  constructor(private readonly options: WebSocketChannelOptions) {}

  /** The bound port (useful when configured as 0). */
  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? this.options.port;
  }

  async start(sink: ChannelSink): Promise<void> {
    this.sink = sink;
    const server = createServer((req, res) => {
      const health = req.url === "/health";
      res.writeHead(health ? 200 : 404, { "content-type": "application/json" });
      res.end(JSON.stringify(health ? { ok: true, connections: this.connections.size } : { error: "WebSocket only; see /health" }));
    });
    server.maxConnections = MAX_CONNECTIONS;
    this.server = server;
    this.wss = new WebSocketServer({
      server,
      maxPayload: MAX_FRAME_BYTES,
      verifyClient: ({ req }, done) => {
        const refusal = this.refusalBeforeUpgrade(req);
        if (!refusal) return done(true);
        this.options.log.warn("WebSocket upgrade refused", { address: addressOf(req), origin: req.headers.origin, reason: refusal.reason });
        done(false, refusal.status, refusal.reason);
      },
    });
    this.wss.on("connection", (socket, req) => this.accept(socket, addressOf(req)));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.tick = setInterval(() => this.broadcast("tick", { ts: Date.now() }), this.options.tickInterval);
    this.tick.unref();
    this.options.log.info("WebSocket channel listening", { host: this.options.host, port: this.port });
  }

  async stop(reason = "the daemon is shutting down"): Promise<void> {
    clearInterval(this.tick);
    this.broadcast("shutdown", { reason });
    for (const { socket } of this.connections.values()) socket.close(CLOSE.shutdown, "shutdown");
    this.connections.clear();
    await new Promise<void>((resolve) => (this.wss ? this.wss.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections();
  }

  async send(replyTo: ReplyTo, text: string, context: ReplyContext = {}): Promise<void> {
    const connection = this.connections.get(this.connectionId(replyTo));
    if (!connection) {
      this.options.log.info("WebSocket client gone; reply logged instead", { replyTo, text });
      return;
    }
    this.push(connection, "reply", { text, messageId: context.messageId });
  }

  stream(replyTo: ReplyTo, delta: string, context: ReplyContext = {}): void {
    const connection = this.connections.get(this.connectionId(replyTo));
    if (connection) this.push(connection, "delta", { text: delta, messageId: context.messageId });
  }

  runState(replyTo: ReplyTo, state: "running" | "settled", context: ReplyContext = {}): void {
    const connection = this.connections.get(this.connectionId(replyTo));
    if (connection) this.push(connection, "run", { state, messageId: context.messageId });
  }

  queueChanged(view: QueueView): void {
    this.broadcast("queue", summariseQueue(view));
  }

  /** Cross-site pages (an Origin not allowed) and addresses backing off are refused before the upgrade. */
  private refusalBeforeUpgrade(req: IncomingMessage): { status: number; reason: string } | undefined {
    const origin = req.headers.origin;
    if (origin !== undefined && !(this.options.allowedOrigins ?? []).includes(origin)) {
      return { status: 403, reason: `Origin ${origin} is not allowed; add it to daemon.allowedOrigins to let that page connect` };
    }
    const wait = this.failedAuth.blockedFor(addressOf(req));
    if (wait > 0) return { status: 429, reason: `too many failed auth attempts from this address; retry in ${Math.ceil(wait / 1000)}s` };
    if ((this.waiting.get(addressOf(req)) ?? 0) >= MAX_WAITING_PER_ADDRESS) {
      return { status: 429, reason: `${MAX_WAITING_PER_ADDRESS} sockets from this address are already waiting to authenticate; send their auth frames first` };
    }
    return undefined;
  }

  private connectionId(replyTo: ReplyTo): string {
    return replyTo.slice(WS_CHANNEL.length + 1);
  }

  private accept(socket: WebSocket, address: string): void {
    const rate = this.options.requestsPerSecond ?? 20;
    const connection: Connection = { id: randomBytes(6).toString("hex"), address, socket, state: "new", seq: 0, requests: new TokenBucket(rate, 1000) };
    connection.authTimer = setTimeout(() => this.refuse(connection, CLOSE.authTimeout, "no auth frame"), AUTH_TIMEOUT_MS);
    this.waiting.set(address, (this.waiting.get(address) ?? 0) + 1);
    socket.on("message", (data, isBinary) => {
      // A refused socket is read no further, whatever it had already sent.
      if (connection.state === "refused") return;
      void this.onFrame(connection, isBinary ? null : data.toString()).catch((error) =>
        this.options.log.error("WebSocket frame handling failed", { error }),
      );
    });
    socket.on("close", () => {
      this.doneWaiting(connection);
      this.connections.delete(connection.id);
    });
    socket.on("error", (error) => this.options.log.warn("WebSocket error", { connection: connection.id, error }));
  }

  private async onFrame(connection: Connection, text: string | null): Promise<void> {
    let request: Request | undefined;
    let problem: string | undefined;
    let id: unknown;
    try {
      const data: unknown = text === null ? undefined : JSON.parse(text);
      id = (data as { id?: unknown } | undefined)?.id;
      const parsed = requestSchema.safeParse(data);
      if (parsed.success) request = parsed.data;
      else problem = text === null ? "binary frames are not supported" : `not a request frame: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(frame)"}: ${i.message}`).join("; ")}`;
    } catch (error) {
      problem = `not JSON: ${(error as Error).message}`;
    }
    if (connection.state === "new") return this.authenticate(connection, request, problem);
    const wait = connection.requests.take();
    if (wait > 0) return this.throttle(connection, id, wait);
    if (!request) {
      const validId = typeof id === "string" || typeof id === "number";
      if (validId) this.respond(connection, id as string | number, { code: "bad_frame", message: problem! });
      else this.write(connection, { type: "error", error: { code: "bad_frame", message: problem } });
      return;
    }
    try {
      this.respond(connection, request.id, undefined, await this.handle(connection, request));
    } catch (error) {
      const code = error instanceof RequestError ? error.code : "internal";
      this.respond(connection, request.id, { code, message: (error as Error).message });
    }
  }

  /** The one auth attempt of a connection: right, or the connection is refused for good. */
  private authenticate(connection: Connection, request: Request | undefined, problem: string | undefined): void {
    this.doneWaiting(connection);
    // Checked again here, not only at the upgrade: sockets opened in parallel before the first
    // failure would otherwise each get a guess.
    const wait = this.failedAuth.blockedFor(connection.address);
    if (wait > 0) {
      this.refuseAuth(connection, request, `too many failed auth attempts from this address; retry in ${Math.ceil(wait / 1000)}s`);
      return;
    }
    if (request?.method === "auth" && tokensMatch(request.params?.token, this.options.token)) {
      connection.state = "authed";
      this.connections.set(connection.id, connection);
      this.respond(connection, request.id, undefined, { connection: connection.id, protocol: 2 });
      this.push(connection, "queue", summariseQueue(this.sink.queue?.() ?? { waiting: [] }));
      return;
    }
    this.failedAuth.failed(connection.address);
    const message = request?.method === "auth" ? "wrong token" : `the first frame must be {type:"req", method:"auth", params:{token}}${problem ? ` (${problem})` : ""}`;
    this.refuseAuth(connection, request, message);
  }

  private refuseAuth(connection: Connection, request: Request | undefined, message: string): void {
    this.options.log.warn("WebSocket client refused", { connection: connection.id, address: connection.address, reason: message });
    if (request) this.respond(connection, request.id, { code: "unauthorized", message });
    else this.write(connection, { type: "error", error: { code: "unauthorized", message } });
    this.refuse(connection);
  }

  /** The connection is past its auth frame (or gone): it no longer counts as waiting. */
  private doneWaiting(connection: Connection): void {
    if (connection.authTimer === undefined) return;
    clearTimeout(connection.authTimer);
    connection.authTimer = undefined;
    const left = (this.waiting.get(connection.address) ?? 1) - 1;
    if (left > 0) this.waiting.set(connection.address, left);
    else this.waiting.delete(connection.address);
  }

  /** Closes the socket and cuts it shortly after: nothing it sends later is read. */
  private refuse(connection: Connection, code: number = CLOSE.unauthorized, reason = "unauthorized"): void {
    connection.state = "refused";
    this.doneWaiting(connection);
    const { socket } = connection;
    socket.pause();
    socket.close(code, reason);
    setTimeout(() => socket.terminate(), CUT_AFTER_MS).unref();
  }

  private throttle(connection: Connection, id: unknown, wait: number): void {
    const rate = this.options.requestsPerSecond ?? 20;
    const message = `rate limit: at most ${rate} requests a second on one connection; retry in ${wait} ms`;
    if (!connection.throttledLogged) {
      connection.throttledLogged = true;
      this.options.log.warn("WebSocket client over its request rate; refusing requests (logged once per connection)", { connection: connection.id, address: connection.address, rate });
    }
    const error = { code: "refused", message };
    if (typeof id === "string" || typeof id === "number") this.respond(connection, id, error);
    else this.write(connection, { type: "error", error });
  }

  private async handle(connection: Connection, request: Request): Promise<unknown> {
    const replyTo = `${WS_CHANNEL}:${connection.id}`;
    switch (request.method) {
      case "prompt": {
        const params = promptParams.safeParse(request.params ?? {});
        if (!params.success) throw new RequestError("bad_params", params.error.issues.map((i) => i.message).join("; "));
        const messageId = String(request.id);
        const result = await this.sink.submit({ source: WS_CHANNEL, replyTo, text: params.data.text, messageId });
        if (!result.accepted) throw new RequestError("refused", result.reason);
        return { queued: true, position: result.position, messageId };
      }
      case "status":
        return { text: await this.sink.command("status", replyTo), queue: this.sink.queue ? summariseQueue(this.sink.queue()) : undefined };
      case "abort":
      case "new":
        return { text: await this.sink.command(request.method as ChannelCommand, replyTo) };
      case "auth":
        throw new RequestError("bad_request", "already authenticated");
      default:
        throw new RequestError("unknown_method", `unknown method "${request.method}"; use prompt, status, abort or new`);
    }
  }

  private respond(connection: Connection, id: string | number, error?: { code: string; message: string }, payload?: unknown): void {
    this.write(connection, error ? { type: "res", id, ok: false, error } : { type: "res", id, ok: true, payload });
  }

  private push(connection: Connection, event: string, payload: unknown): void {
    connection.seq += 1;
    this.write(connection, { type: "event", event, payload, seq: connection.seq });
  }

  private broadcast(event: string, payload: unknown): void {
    for (const connection of this.connections.values()) this.push(connection, event, payload);
  }

  private write(connection: Connection, frame: unknown): void {
    if (connection.socket.readyState === connection.socket.OPEN) connection.socket.send(JSON.stringify(frame));
  }
}

function addressOf(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? "unknown";
}
