// The contract between the daemon and its channels (Telegram, WebSocket). A channel turns
// what people send into queue entries and delivers settled replies back to whoever asked.
// Channels know nothing of pi; the daemon knows nothing of Telegram or sockets.
import type { DaemonState } from "../core/daemon-state.ts";

/** Who to answer: `<channel>:<address>`, e.g. `telegram:123456`, `ws:conn-7`, `redis`, `log`. */
export type ReplyTo = string;

export interface HumanMessage {
  /** The channel's name, e.g. "telegram". */
  source: string;
  replyTo: ReplyTo;
  text: string;
  /** Channel-specific id of the message (Telegram update_id, WebSocket request id), for logs and dedupe. */
  messageId?: string;
}

export type SubmitResult =
  | { accepted: true; position: number }
  | { accepted: false; reason: string };

export type ChannelCommand = "new" | "status" | "abort";

/** Which message a reply, a delta or a run state belongs to (optional for channels to use). */
export interface ReplyContext {
  /** The HumanMessage.messageId the entry was submitted with. */
  messageId?: string;
}

/** The daemon's queue as channels may show it (WebSocket `queue` events, `/status`). */
export type QueueView = Pick<DaemonState, "running" | "waiting">;

/** What the daemon offers a channel. */
export interface ChannelSink {
  /** Queues a human message durably; resolves once it is safe to acknowledge upstream. */
  submit(message: HumanMessage): Promise<SubmitResult>;
  /** Runs `/new`, `/status` or `/abort` and returns the text to show the asker. */
  command(name: ChannelCommand, replyTo: ReplyTo): Promise<string>;
  /** The queue right now (optional: channels that show structured status). */
  queue?(): QueueView;
}

export interface Channel {
  readonly name: string;
  start(sink: ChannelSink): Promise<void>;
  /** Sends a settled reply (the whole turn's text) to one address of this channel. */
  send(replyTo: ReplyTo, text: string, context?: ReplyContext): Promise<void>;
  /** A run for this address started or settled (typing indicators, streaming). */
  runState?(replyTo: ReplyTo, state: "running" | "settled", context?: ReplyContext): void;
  /** Streamed text while the run goes (optional: channels that stream). */
  stream?(replyTo: ReplyTo, delta: string, context?: ReplyContext): void;
  /** The queue changed (optional: channels that push queue state). */
  queueChanged?(view: QueueView): void;
  stop(): Promise<void>;
}
