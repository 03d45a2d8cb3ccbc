// The WebSocket channel, on the daemon's port (loopback by default). Protocol, JSON frames:
//   first frame   {type:"req", id, method:"auth", params:{token}}   else the socket closes
//   requests      {type:"req", id, method, params}  →  {type:"res", id, ok, payload | error}
//                 methods: prompt {text}, status, abort, new
//   pushed        {type:"event", event, payload, seq}  (seq counts per connection)
//                 events: run {state, messageId}, delta {text, messageId}, reply {text, messageId},
//                 queue {running, waiting}, tick {ts}, shutdown {reason}
//   bad frames    {type:"error", error:{code, message}} (or a res with ok:false when the
//                 frame had an id); the socket stays open.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import * as z from "zod";
import type { Logger } from "../../core/log.ts";
import type { Channel, ChannelCommand, ChannelSink, QueueView, ReplyContext, ReplyTo } from "../channel.ts";

export const WS_CHANNEL = "ws";
const MAX_FRAME_BYTES = 1024 * 1024;
const MAX_PROMPT_CHARS = 100_000;
const AUTH_TIMEOUT_MS = 10_000;
/** Close codes (4000-4999 are the application's). */
export const CLOSE = { unauthorized: 4401, authTimeout: 4408, shutdown: 1001 } as const;

const requestSchema = z.object({
  type: z.literal("req"),
  id: z.union([z.string().min(1).max(200), z.number()]),
  method: z.string().min(1).max(100),
  params: z.record(z.string(), z.unknown()).optional(),
});
type Request = z.infer<typeof requestSchema>;
const promptParams = z.object({ text: z.string().trim().min(1, "text must not be empty").max(MAX_PROMPT_CHARS) });

export interface WebSocketChannelOptions {
  host: string;
  port: number;
  token: string;
  tickInterval: number;
  log: Logger;
}

interface Connection {
  id: string;
  socket: WebSocket;
  authed: boolean;
  seq: number;
  authTimer?: NodeJS.Timeout;
}

class RequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function tokensMatch(given: unknown, expected: string): boolean {
  if (typeof given !== "string") return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export class WebSocketChannel implements Channel {
  readonly name = WS_CHANNEL;
  private readonly connections = new Map<string, Connection>();
  private server: Server | undefined;
  private wss: WebSocketServer | undefined;
  private tick: NodeJS.Timeout | undefined;
  private sink!: ChannelSink;

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
    this.server = server;
    this.wss = new WebSocketServer({ server, maxPayload: MAX_FRAME_BYTES });
    this.wss.on("connection", (socket) => this.accept(socket));
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
    this.broadcast("queue", view);
  }

  private connectionId(replyTo: ReplyTo): string {
    return replyTo.slice(WS_CHANNEL.length + 1);
  }

  private accept(socket: WebSocket): void {
    const connection: Connection = { id: randomBytes(6).toString("hex"), socket, authed: false, seq: 0 };
    connection.authTimer = setTimeout(() => socket.close(CLOSE.authTimeout, "no auth frame"), AUTH_TIMEOUT_MS);
    socket.on("message", (data, isBinary) => {
      void this.onFrame(connection, isBinary ? null : data.toString()).catch((error) =>
        this.options.log.error("WebSocket frame handling failed", { error }),
      );
    });
    socket.on("close", () => {
      clearTimeout(connection.authTimer);
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
    if (!connection.authed) return this.authenticate(connection, request, problem);
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

  private authenticate(connection: Connection, request: Request | undefined, problem: string | undefined): void {
    const { socket } = connection;
    if (request?.method === "auth" && tokensMatch(request.params?.token, this.options.token)) {
      connection.authed = true;
      this.connections.set(connection.id, connection);
      clearTimeout(connection.authTimer);
      this.respond(connection, request.id, undefined, { connection: connection.id, protocol: 1 });
      this.push(connection, "queue", this.sink.queue?.() ?? { waiting: [] });
      return;
    }
    const message = request?.method === "auth" ? "wrong token" : `the first frame must be {type:"req", method:"auth", params:{token}}${problem ? ` (${problem})` : ""}`;
    this.options.log.warn("WebSocket client refused", { reason: message });
    if (request) this.respond(connection, request.id, { code: "unauthorized", message });
    else this.write(connection, { type: "error", error: { code: "unauthorized", message } });
    socket.close(CLOSE.unauthorized, "unauthorized");
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
        return { text: await this.sink.command("status", replyTo), queue: this.sink.queue?.() };
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
