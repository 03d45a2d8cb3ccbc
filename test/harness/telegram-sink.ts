// An in-test ChannelSink for Telegram channel tests that do not need the real daemon: it
// records what was submitted and answers each message through the channel, like the
// daemon's router does once a run settles.
import type { Channel, ChannelCommand, ChannelSink, HumanMessage, ReplyTo } from "../../daemon/channel.ts";

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
