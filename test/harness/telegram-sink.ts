// An in-test ChannelSink for Telegram channel tests that do not need the real daemon: it
// records what was submitted and answers each message through the channel, like the
// daemon's router does once a run settles.
import { test } from "node:test";
import type { Redis } from "ioredis";
import type { Config } from "../../core/config.ts";
import { createLogger } from "../../core/log.ts";
import type { Channel, ChannelCommand, ChannelSink, HumanMessage, ReplyTo } from "../../daemon/channel.ts";
import { TelegramChannel } from "../../daemon/channels/telegram/channel.ts";
import type { TelegramStandin } from "./telegram-standin.ts";

export interface RecordingSink extends ChannelSink {
  submitted: HumanMessage[];
  commands: { name: ChannelCommand; replyTo: ReplyTo }[];
  /** Makes submit fail (throw) while true, as when the daemon cannot queue. */
  failing: boolean;
}

/** `answer` turns a submitted text into the agent's reply; undefined sends nothing. */
export function recordingSink(channel: () => Channel, answer: (text: string) => string | undefined = (t) => `echo: ${t}`): RecordingSink {
  const sink: RecordingSink = {
    submitted: [],
    commands: [],
    failing: false,
    async submit(message) {
      if (sink.failing) throw new Error("queue unavailable");
      sink.submitted.push(message);
      const reply = answer(message.text);
      if (reply !== undefined) setImmediate(() => void channel().send(message.replyTo, reply));
      return { accepted: true, position: sink.submitted.length };
    },
    async command(name, replyTo) {
      sink.commands.push({ name, replyTo });
      return `${name}: done`;
    },
  };
  return sink;
}

/** The real Telegram channel polling `standin`, answering through a recording sink, its log
 *  lines kept in `logs`; stopped when the test ends. */
export async function channelWithSink(standin: TelegramStandin, config: Config, redis: Redis): Promise<{ channel: TelegramChannel; sink: RecordingSink; logs: string[] }> {
  const logs: string[] = [];
  const log = createLogger({ kind: "daemon", level: "debug", echo: (line) => logs.push(line) });
  const channel = new TelegramChannel({ token: standin.token, config, redis, log, pollTimeoutSeconds: 2 });
  const sink = recordingSink(() => channel);
  await channel.start(sink);
  test.after(() => channel.stop());
  return { channel, sink, logs };
}
