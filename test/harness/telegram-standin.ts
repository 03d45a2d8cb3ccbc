// A local stand-in of the Telegram Bot API (https://core.telegram.org/bots/api) over HTTP on
// 127.0.0.1, for tests: Telegram itself is unreachable here. It speaks the real wire format —
// POST <root>/bot<token>/<method>, JSON in, {ok:true,result} or {ok:false,error_code,
// description,parameters} out — and imitates the methods the gateway calls: getMe,
// getUpdates (offset confirmation + long-poll timeout), sendMessage (HTML parse_mode
// validation and the 4096-character limit), sendChatAction and deleteWebhook. Faults can be
// injected: dropped connections, 409 Conflict, 429 with retry_after, rejected markup.
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { after } from "node:test";

export interface SentMessage {
  message_id: number;
  chat_id: number;
  /** The text as sent (HTML source when parse_mode is HTML). */
  raw: string;
  /** The text a user sees: HTML tags removed and entities decoded. */
  text: string;
  parse_mode?: string;
}

interface ApiFailure {
  error_code: number;
  description: string;
  parameters?: { retry_after?: number };
}

class BotApiError extends Error {
  constructor(readonly failure: ApiFailure) {
    super(failure.description);
  }
}

const badRequest = (detail: string) => new BotApiError({ error_code: 400, description: `Bad Request: ${detail}` });

/** sendMessage "text": 1-4096 characters after entities parsing. */
export const MESSAGE_LIMIT = 4096;

// Telegram's HTML style: these tags only (https://core.telegram.org/bots/api#html-style).
const ALLOWED_TAGS = new Set(["b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "tg-emoji", "code", "pre", "blockquote"]);
const NAMED_ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"' };

/**
 * Parses Telegram HTML the way sendMessage does and returns the visible text, or throws the
 * 400 "can't parse entities" error for an unknown or unbalanced tag or an unknown entity.
 */
export function parseTelegramHtml(html: string): string {
  const open: string[] = [];
  let text = "";
  let i = 0;
  const fail = (detail: string) => badRequest(`can't parse entities: ${detail} at byte offset ${Buffer.byteLength(html.slice(0, i))}`);
  while (i < html.length) {
    const ch = html[i]!;
    if (ch === "<") {
      const tag = /^<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:="[^"<>]*"|='[^'<>]*'|=[^\s"'<>]+)?)*)\s*>/.exec(html.slice(i));
      if (!tag) throw fail("Unsupported start tag");
      const [whole, closing, rawName] = tag;
      const name = rawName!.toLowerCase();
      if (!ALLOWED_TAGS.has(name)) throw fail(`Unsupported start tag "${name}"`);
      if (closing) {
        if (open.at(-1) !== name) throw fail(`Unmatched end tag "${name}"${open.length ? `, expected "</${open.at(-1)}>"` : ""}`);
        open.pop();
      } else {
        open.push(name);
      }
      i += whole.length;
      continue;
    }
    if (ch === "&") {
      const entity = /^&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/.exec(html.slice(i));
      if (entity) {
        const body = entity[1]!;
        if (body.startsWith("#")) {
          text += String.fromCodePoint(body[1] === "x" ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10));
        } else if (NAMED_ENTITIES[body] !== undefined) {
          text += NAMED_ENTITIES[body];
        } else {
          throw fail(`Unsupported HTML entity "&${body};"`);
        }
        i += entity[0].length;
        continue;
      }
    }
    if (ch === ">") throw fail('Unexpected ">"');
    text += ch;
    i += 1;
  }
  if (open.length) throw fail(`Can't find end tag corresponding to start tag "${open.at(-1)}"`);
  return text;
}

interface StoredUpdate {
  update_id: number;
  message: Record<string, unknown>;
}

interface PendingPoll {
  offset: number;
  limit: number;
  resolve: (updates: StoredUpdate[]) => void;
  reject: (error: BotApiError) => void;
}

export interface StandinOptions {
  token?: string;
  /** The bot's user (getMe). */
  username?: string;
}

export interface TelegramStandin {
  /** Pass as grammY's `client.apiRoot` / config.telegram.apiRoot. */
  apiRoot: string;
  token: string;
  botId: number;
  /** Every call received, in order (method + parsed params), including failed ones. */
  calls: { method: string; params: Record<string, unknown> }[];
  /** Every message accepted by sendMessage, in order. */
  sent: SentMessage[];
  /** A user sends a text message (a /command is a text message too). Returns its update_id. */
  userSends(chatId: number, text: string, fromId?: number): number;
  /** A user sends a photo (a non-text message). */
  userSendsPhoto(chatId: number, fromId?: number): number;
  /** Updates not yet confirmed by a getUpdates offset. */
  pendingUpdates(): number[];
  /** Whether getUpdates has answered with this update (at least once). */
  handedOut(updateId: number): boolean;
  /** Resolves once `predicate` holds for the sent messages (checked after every send). */
  waitForSent(predicate: (sent: SentMessage[]) => boolean, timeoutMs?: number): Promise<SentMessage[]>;
  /** Resolves at the next call of `method` (after it has been answered or failed). */
  nextCall(method: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  faults: {
    /** Network loss: for `ms`, every connection (open long polls too) is cut without an answer. */
    dropConnections(ms: number): Promise<void>;
    /** The next `count` getUpdates calls answer 409 "Conflict: terminated by other getUpdates request". */
    conflict(count: number): void;
    /** The next `count` calls of `method` answer 429 with parameters.retry_after. */
    rateLimit(method: string, count: number, retryAfterSeconds: number): void;
    /** The next `count` sendMessage calls with a parse_mode answer 400 "can't parse entities". */
    rejectMarkup(count: number): void;
  };
  stop(): Promise<void>;
}

/** Starts the stand-in on a free loopback port; it is stopped when the test file ends. */
export async function startTelegramStandin(options: StandinOptions = {}): Promise<TelegramStandin> {
  const token = options.token ?? "123456:TEST-standin-token";
  const botId = Number(token.split(":")[0]);
  const updates: StoredUpdate[] = [];
  let nextUpdateId = 1000;
  let nextMessageId = 1;
  let pending: PendingPoll | undefined;
  let droppingUntil = 0;
  const conflicts = { count: 0 };
  const rateLimits = new Map<string, { count: number; retryAfter: number }>();
  let markupRejections = 0;
  const calls: TelegramStandin["calls"] = [];
  const sent: SentMessage[] = [];
  const sockets = new Set<Socket>();
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const l of listeners) l();
  };

  const handedOut = new Set<number>();
  const handOut = (batch: StoredUpdate[]) => {
    for (const u of batch) handedOut.add(u.update_id);
    return batch;
  };
  const available = (offset: number, limit: number) => updates.filter((u) => u.update_id >= offset).slice(0, limit);

  // getUpdates: "An update is considered confirmed as soon as getUpdates is called with an
  // offset higher than its update_id"; timeout = seconds to long-poll when nothing is pending.
  const getUpdates = (params: Record<string, unknown>): Promise<StoredUpdate[]> | StoredUpdate[] => {
    if (conflicts.count > 0) {
      conflicts.count -= 1;
      throw new BotApiError({ error_code: 409, description: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running" });
    }
    const offset = Number(params.offset ?? 0);
    const limit = Math.min(Math.max(Number(params.limit ?? 100), 1), 100);
    const timeout = Number(params.timeout ?? 0);
    if (offset > 0) for (let i = updates.length - 1; i >= 0; i--) if (updates[i]!.update_id < offset) updates.splice(i, 1);
    // A second poller terminates the first one's request with 409, as Telegram does.
    if (pending) {
      pending.reject(new BotApiError({ error_code: 409, description: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running" }));
      pending = undefined;
    }
    const ready = available(offset, limit);
    if (ready.length || timeout <= 0) return handOut(ready);
    return new Promise((resolve, reject) => {
      const poll: PendingPoll = { offset, limit, resolve, reject };
      pending = poll;
      const timer = setTimeout(() => {
        if (pending === poll) pending = undefined;
        resolve([]);
      }, timeout * 1000);
      poll.resolve = (u) => {
        clearTimeout(timer);
        resolve(handOut(u));
      };
      poll.reject = (e) => {
        clearTimeout(timer);
        reject(e);
      };
    });
  };

  const wakePoll = () => {
    if (!pending) return;
    const ready = available(pending.offset, pending.limit);
    if (!ready.length) return;
    const poll = pending;
    pending = undefined;
    poll.resolve(ready);
  };

  const chatOf = (params: Record<string, unknown>) => {
    const chatId = Number(params.chat_id);
    if (!Number.isInteger(chatId)) throw badRequest("chat not found");
    return chatId;
  };

  // sendMessage: parse_mode HTML is validated; text is 1-4096 characters after entities parsing.
  const sendMessage = (params: Record<string, unknown>) => {
    const chat_id = chatOf(params);
    const raw = String(params.text ?? "");
    const parseMode = params.parse_mode === undefined ? undefined : String(params.parse_mode);
    if (parseMode && markupRejections > 0) {
      markupRejections -= 1;
      throw badRequest(`can't parse entities: Can't find end tag corresponding to start tag "b" at byte offset 0`);
    }
    if (parseMode && parseMode !== "HTML") throw badRequest(`unsupported parse_mode ${parseMode} in this stand-in`);
    const text = parseMode ? parseTelegramHtml(raw) : raw;
    if (!text.trim()) throw badRequest("message text is empty");
    if (text.length > MESSAGE_LIMIT) throw badRequest("message is too long");
    const message: SentMessage = { message_id: nextMessageId++, chat_id, raw, text, ...(parseMode ? { parse_mode: parseMode } : {}) };
    sent.push(message);
    return { message_id: message.message_id, date: Math.floor(Date.now() / 1000), chat: { id: chat_id, type: "private" }, text };
  };

  const CHAT_ACTIONS = new Set(["typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice", "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note"]);

  const methods: Record<string, (params: Record<string, unknown>) => unknown> = {
    getMe: () => ({ id: botId, is_bot: true, first_name: "Gateway Test Bot", username: options.username ?? "gateway_test_bot", can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false }),
    getUpdates,
    sendMessage,
    // sendChatAction: true on success; an unknown action is 400 "wrong parameter action in request".
    sendChatAction: (params) => {
      chatOf(params);
      if (!CHAT_ACTIONS.has(String(params.action))) throw badRequest("wrong parameter action in request");
      return true;
    },
    // deleteWebhook: true; drop_pending_updates discards the queue.
    deleteWebhook: (params) => {
      if (params.drop_pending_updates) updates.splice(0);
      return true;
    },
  };

  const readParams = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const query = Object.fromEntries(new URL(req.url ?? "/", "http://x").searchParams);
    if (!body) return query;
    if ((req.headers["content-type"] ?? "").includes("application/json")) return { ...query, ...JSON.parse(body) };
    return { ...query, ...Object.fromEntries(new URLSearchParams(body)) };
  };

  const answer = (res: ServerResponse, status: number, body: unknown) => {
    if (res.destroyed) return;
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (Date.now() < droppingUntil) return void req.socket.destroy();
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(new URL(req.url ?? "/", "http://x").pathname);
    if (!match) return answer(res, 404, { ok: false, error_code: 404, description: "Not Found" });
    const [, gotToken, method] = match;
    let params: Record<string, unknown> = {};
    try {
      params = await readParams(req);
      calls.push({ method: method!, params });
      if (gotToken !== token) throw new BotApiError({ error_code: 401, description: "Unauthorized" });
      const impl = methods[method!];
      if (!impl) throw new BotApiError({ error_code: 404, description: "Not Found: method not found" });
      const limited = rateLimits.get(method!);
      if (limited && limited.count > 0) {
        limited.count -= 1;
        // 429: "Too Many Requests: retry after N" with parameters.retry_after (seconds).
        throw new BotApiError({ error_code: 429, description: `Too Many Requests: retry after ${limited.retryAfter}`, parameters: { retry_after: limited.retryAfter } });
      }
      const result = await impl(params);
      answer(res, 200, { ok: true, result });
    } catch (error) {
      if (error instanceof BotApiError) answer(res, error.failure.error_code, { ok: false, ...error.failure });
      else answer(res, 400, { ok: false, error_code: 400, description: `Bad Request: ${(error as Error).message}` });
    } finally {
      notify();
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };

  const waitUntil = <T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const listener = () => {
        const value = check();
        if (value === undefined) return;
        cleanup();
        resolve(value);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`telegram stand-in: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        listeners.delete(listener);
      };
      listeners.add(listener);
      listener();
    });

  const addUpdate = (chatId: number, fromId: number, content: Record<string, unknown>) => {
    const update_id = nextUpdateId++;
    updates.push({
      update_id,
      message: {
        message_id: nextMessageId++,
        date: Math.floor(Date.now() / 1000),
        chat: { id: chatId, type: chatId > 0 ? "private" : "group", ...(chatId > 0 ? { first_name: "Test" } : { title: "Test group" }) },
        from: { id: fromId, is_bot: false, first_name: "Test", username: `user${fromId}` },
        ...content,
      },
    });
    wakePoll();
    return update_id;
  };

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    pending?.resolve([]);
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  };
  after(stop);

  return {
    apiRoot: `http://127.0.0.1:${port}`,
    token,
    botId,
    calls,
    sent,
    userSends: (chatId, text, fromId = chatId) => {
      const entities = text.startsWith("/") ? [{ type: "bot_command", offset: 0, length: text.split(/\s/)[0]!.length }] : undefined;
      return addUpdate(chatId, fromId, { text, ...(entities ? { entities } : {}) });
    },
    userSendsPhoto: (chatId, fromId = chatId) =>
      addUpdate(chatId, fromId, { photo: [{ file_id: "photo-1", file_unique_id: "p1", width: 90, height: 90 }] }),
    pendingUpdates: () => updates.map((u) => u.update_id),
    handedOut: (updateId) => handedOut.has(updateId),
    waitForSent: (predicate, timeoutMs = 30_000) => waitUntil(() => (predicate(sent) ? sent : undefined), timeoutMs, "sent messages"),
    nextCall: (method, timeoutMs = 30_000) => {
      const seen = calls.length;
      return waitUntil(() => calls.slice(seen).find((c) => c.method === method)?.params, timeoutMs, `a ${method} call`);
    },
    faults: {
      dropConnections: async (ms) => {
        droppingUntil = Date.now() + ms;
        // The open long poll dies with its connection; its updates stay unconfirmed.
        pending?.resolve([]);
        pending = undefined;
        for (const socket of sockets) socket.destroy();
      },
      conflict: (count) => {
        conflicts.count = count;
        // Telegram ends the pending long poll of the other instance at once.
        if (pending) {
          conflicts.count -= 1;
          pending.reject(new BotApiError({ error_code: 409, description: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running" }));
          pending = undefined;
        }
      },
      rateLimit: (method, count, retryAfterSeconds) => void rateLimits.set(method, { count, retryAfter: retryAfterSeconds }),
      rejectMarkup: (count) => {
        markupRejections = count;
      },
    },
    stop,
  };
}
