// Long and awkward replies against the local Bot API stand-in, which validates HTML the way
// sendMessage does (Telegram itself is unreachable in tests): splitting under 4096 characters
// without breaking formatting, and the plain-text fallback when markup is rejected.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createLogger } from "../../core/log.ts";
import { TelegramChannel } from "../../daemon/channels/telegram/channel.ts";
import { markdownToTelegramHtml } from "../../daemon/channels/telegram/markdown.ts";
import { splitMarkdown } from "../../daemon/channels/telegram/split.ts";
import { startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";
import { MESSAGE_LIMIT, parseTelegramHtml, startTelegramStandin } from "../harness/telegram-standin.ts";
import { recordingSink } from "../harness/telegram-sink.ts";

const server = await startRedis();
const redis = await server.consumer();

const CHAT = 42;

/** ~10 000 characters: prose with markup and characters HTML must escape, and code blocks (one longer than a message). */
function longReply(): string {
  const parts: string[] = [];
  for (let i = 0; parts.join("\n").length < 7000; i++) {
    parts.push(`## Step ${i}\n\nCompare **a < b && c > d** for _item ${i}_ and see \`x<y>\` & [docs](https://example.com/?q=${i}&r=1).\n`);
    parts.push("```ts\n" + `const v${i} = a < b ? "<tag>" : '&amp;';\n`.repeat(8) + "```\n");
  }
  parts.push("```python\n" + Array.from({ length: 120 }, (_, n) => `print("line ${n}", 1 < 2)`).join("\n") + "\n```");
  return parts.join("\n");
}

async function setup(answer: (text: string) => string | undefined) {
  const standin = await startTelegramStandin();
  const base = testConfig(server.url, server.prefix());
  const config = { ...base, telegram: { ...base.telegram, apiRoot: standin.apiRoot, allowedChats: [CHAT] } };
  const logs: string[] = [];
  const log = createLogger({ kind: "daemon", level: "debug", echo: (line) => logs.push(line) });
  const channel = new TelegramChannel({ token: standin.token, config, redis, log, pollTimeoutSeconds: 2 });
  await channel.start(recordingSink(() => channel, answer));
  test.after(() => channel.stop());
  return { standin, logs };
}

test("stand-in Bot API: a 10 000-character reply with code blocks arrives as several valid messages, in order, nothing lost", async () => {
  const reply = longReply();
  assert.ok(reply.length >= 10_000, `reply is ${reply.length} characters`);
  const { standin } = await setup(() => reply);
  standin.userSends(CHAT, "write a lot");
  const pieces = splitMarkdown(reply);
  const sent = await standin.waitForSent((s) => s.length >= pieces.length);
  assert.ok(sent.length >= 3, `${sent.length} messages`);
  for (const message of sent) {
    assert.equal(message.parse_mode, "HTML", "every piece kept its formatting (the stand-in accepted the HTML)");
    assert.ok(message.text.length <= MESSAGE_LIMIT);
  }
  // Every code line arrives exactly once, inside a <pre> block.
  const all = sent.map((m) => m.text).join("\n");
  for (let n = 0; n < 120; n++) assert.equal(all.split(`print("line ${n}", 1 < 2)`).length - 1, 1, `line ${n}`);
  const codeSpans = sent.flatMap((m) => [...m.raw.matchAll(/<pre><code[^>]*>([\s\S]*?)<\/code><\/pre>/g)].map((x) => x[1]!));
  assert.ok(codeSpans.some((c) => c.includes("print(&quot;line 119&quot;, 1 &lt; 2)") || c.includes('print("line 119", 1 &lt; 2)')));
  // The prose's escaped characters survive as text.
  assert.ok(all.includes("Compare a < b && c > d for item 0 and see x<y> & docs."));
});

test("stand-in Bot API: a reply the stand-in rejects as bad markup arrives as plain text", async () => {
  const reply = "Here is **bold** and `code`: a < b";
  const { standin, logs } = await setup(() => reply);
  standin.faults.rejectMarkup(1);
  standin.userSends(CHAT, "hi");
  const [message] = await standin.waitForSent((s) => s.length >= 1);
  assert.equal(message!.parse_mode, undefined);
  assert.equal(message!.text, reply);
  assert.equal(standin.calls.filter((c) => c.method === "sendMessage").length, 2, "one rejected HTML attempt, one plain");
  assert.ok(logs.some((l) => l.includes("sending it as plain text")));
});

test("Markdown → Telegram HTML: every piece of awkward input parses (balanced tags, escaped text)", () => {
  const awkward = [
    "**unclosed bold and _mixed **nesting_ and `unclosed code",
    "<script>alert('x')</script> & &amp; &#x41; >>> <<<",
    "[link](javascript:alert(1)) [ok](https://e.com/a_b_c?x=<1>&y=\"2\")",
    "snake_case_words and 2*3*4 and ***triple*** and ~~strike~~ and ~~~\nnot closed fence",
    "> quote with **bold\n> and more**\n- list *item*\n# Heading with `code`",
  ];
  for (const text of awkward) {
    for (const piece of splitMarkdown(text)) assert.doesNotThrow(() => parseTelegramHtml(markdownToTelegramHtml(piece)), piece);
  }
  assert.equal(markdownToTelegramHtml("**a < b**"), "<b>a &lt; b</b>");
  assert.equal(markdownToTelegramHtml("snake_case_name"), "snake_case_name");
});

test("split: a code block longer than a message is closed and reopened with its language; no piece exceeds the limit", () => {
  const block = "```js\n" + "let x = 1;\n".repeat(1000) + "```";
  const pieces = splitMarkdown(block);
  assert.ok(pieces.length >= 3);
  for (const piece of pieces) {
    assert.ok(piece.length <= 4000);
    assert.ok(piece.startsWith("```js\n") && piece.endsWith("\n```"), piece.slice(0, 20));
  }
  assert.equal(pieces.join("\n").split("let x = 1;").length - 1, 1000);
});
