// The interactive TUI, as a user meets it: a real `pi` (no --mode, no -p) in a private tmux
// server, its model a local OpenAI-compatible stand-in (node:http answering
// /v1/chat/completions with SSE) registered through models.json. The test reads the screen with
// `tmux capture-pane`, types with `send-keys`, and pushes events with the real CLI.
import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer, type Server, type ServerResponse } from "node:http";
import { join } from "node:path";
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { PI_BIN, REPO_ROOT, piDirs, pollUntil, tempDir } from "../harness/pi.ts";
import { outputOf } from "../harness/process.ts";
import { startRedis } from "../harness/redis.ts";

const server = await startRedis();

/** The stand-in model and what it was asked: each request's JSON body, in order. */
interface StandIn {
  server: Server;
  baseUrl: string;
  requests: string[];
}

function sse(res: ServerResponse, chunks: unknown[]): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  for (const chunk of chunks) res.write(`data: ${JSON.stringify(chunk)}\n\n`);
  res.end("data: [DONE]\n\n");
}

/** Answers every chat completion with "stand-in reply N" (N counts the requests). */
async function startStandInModel(): Promise<StandIn> {
  const requests: string[] = [];
  const http = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      if (req.method !== "POST" || !req.url?.endsWith("/chat/completions")) {
        res.writeHead(404).end();
        return;
      }
      requests.push(body);
      const base = { id: `chatcmpl-${requests.length}`, object: "chat.completion.chunk", created: 0, model: "stand-in" };
      sse(res, [
        { ...base, choices: [{ index: 0, delta: { role: "assistant", content: "stand-in " } }] },
        { ...base, choices: [{ index: 0, delta: { content: `reply ${requests.length}` } }] },
        { ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }], usage: { prompt_tokens: 10, completion_tokens: 3, total_tokens: 13 } },
      ]);
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as { port: number };
  return { server: http, baseUrl: `http://127.0.0.1:${port}/v1`, requests };
}

test("interactive pi in tmux (model: a local OpenAI-compatible stand-in): footer, pushed events, /gateway pause and resume", { timeout: 60_000 }, async () => {
  const model = await startStandInModel();
  const dirs = piDirs({ redisUrl: server.url, prefix: server.prefix(), role: "central" });
  const tmuxDir = tempDir("tmux");
  writeFileSync(
    join(dirs.agentDir, "models.json"),
    JSON.stringify({
      providers: {
        standin: {
          baseUrl: model.baseUrl,
          api: "openai-completions",
          apiKey: "not-a-real-key",
          compat: { supportsDeveloperRole: false, supportsReasoningEffort: false },
          models: [{ id: "echo", reasoning: false, input: ["text"], contextWindow: 32000, maxTokens: 1000 }],
        },
      },
    }),
  );
  const { TMUX: _tmux, TMUX_PANE: _pane, ...inherited } = dirs.env;
  const env: NodeJS.ProcessEnv = { ...inherited, TMUX_TMPDIR: tmuxDir, TERM: "xterm-256color", LANG: "C.UTF-8" };
  const tmux = (...args: string[]) => {
    const r = spawnSync("tmux", args, { env, encoding: "utf8" });
    assert.equal(r.status, 0, `tmux ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const pane = () => tmux("capture-pane", "-p", "-t", "pi");
  const showsOnScreen = async (what: string, matches: (screen: string) => boolean, timeout = 20_000) => {
    try {
      await pollUntil(what, () => matches(pane()), timeout);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- pane ---\n${pane()}`);
    }
  };
  // Only what pi sent as user turns counts (the system prompt names tools, not events).
  const asked = (text: string) =>
    model.requests.some((body) =>
      (JSON.parse(body) as { messages: { role: string; content: unknown }[] }).messages.some(
        (m) => m.role === "user" && JSON.stringify(m.content).includes(text),
      ),
    );
  const push = async (type: string, payload: string) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, "scripts/agent-gateway.mjs"), "push", type, "--payload", payload], {
      cwd: dirs.cwd,
      env: dirs.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const result = await outputOf(child);
    assert.equal(result.code, 0, `push ${type}: ${result.stderr}`);
  };
  after(() => {
    spawnSync("tmux", ["kill-server"], { env });
    model.server.closeAllConnections();
    model.server.close();
  });

  const pi = [PI_BIN, "--no-session", "--no-extensions", "-e", join(REPO_ROOT, "extensions/agent-gateway/index.ts"), "--model", "standin/echo"];
  // remain-on-exit keeps the pane (and pi's last words) readable if pi dies; extended-keys is
  // what pi asks a tmux user to set (docs/troubleshooting.md), so it starts without a warning.
  tmux("start-server", ";", "set-option", "-g", "remain-on-exit", "on", ";", "set-option", "-g", "extended-keys", "on", ";", "new-session", "-d", "-s", "pi", "-x", "120", "-y", "40", "-c", dirs.cwd, ...pi);

  // 1. The footer says the gateway is up, and pi found nothing to warn about in tmux's setup.
  await showsOnScreen("the footer to show the gateway connected", (s) => s.includes("gateway · connected"), 30_000);
  assert.doesNotMatch(tmux("capture-pane", "-p", "-S", "-", "-t", "pi"), /extended-keys/, "no tmux keyboard warning, scrollback included");

  // 2. A pushed event becomes a turn: the model is asked about it and its answer is on screen.
  await push("build.done", '{"target":"release"}');
  await pollUntil("the stand-in model to be asked about build.done", () => asked("build.done"));
  assert.ok(asked("release"), "the payload reaches the model too");
  await showsOnScreen("the stand-in's reply on screen", (s) => s.includes("stand-in reply 1"));

  // 3. One Enter runs a complete subcommand; while paused an event waits in Redis, shown in the footer.
  tmux("send-keys", "-t", "pi", "-l", "/gateway pause");
  tmux("send-keys", "-t", "pi", "Enter");
  await showsOnScreen("the 'delivery paused' notice after one Enter", (s) => s.includes("delivery paused"));
  await push("deploy.held", '{"env":"prod"}');
  await showsOnScreen("the footer to show backlog 1 and paused", (s) => s.includes("gateway · connected · backlog 1 · paused"));
  assert.ok(!asked("deploy.held"), "an event pushed while paused is not sent to the model");

  tmux("send-keys", "-t", "pi", "-l", "/gateway resume");
  tmux("send-keys", "-t", "pi", "Enter");
  await pollUntil("the held event to reach the stand-in model after /gateway resume", () => asked("deploy.held"));
  await showsOnScreen("the resumed turn's reply and a clean footer", (s) => s.includes("stand-in reply 2") && !s.includes("backlog 1"));
});
