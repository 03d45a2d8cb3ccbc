// `node --import tsx scripts/setup/tool.ts <job> ...`: the steps of setup.sh that are safer in
// Node than in shell (JSON edits, template rendering with escaping, Redis checks). Prints one
// word for setup.sh to branch on: created | changed | unchanged | removed | absent.
import { chmodSync, readFileSync } from "node:fs";
import { loadConfig } from "../../core/config.ts";
import { addListEntry, removeIfEmpty, removeListEntry, setKey, unsetKey } from "./json-file.ts";
import { harden, ping } from "./redis.ts";
import { renderFile } from "./render.ts";

const usage = `Usage: tool.ts <job> ...
  config-get KEY                    a (dotted) key of the effective config (env over config.json)
  json-set FILE KEY VALUE           set a (dotted) key to a string
  json-set-secret FILE KEY          set KEY to the value read from stdin (never argv); FILE becomes 0600
  json-unset FILE KEY               remove it
  list-add FILE KEY ENTRY           add ENTRY to the list KEY (pi settings "packages")
  list-remove FILE KEY ENTRY        remove it
  remove-if-empty FILE              delete FILE when it holds {}
  render TEMPLATE OUT NAME=VALUE... render @NAME@ placeholders into OUT
  redis-ping URL                    exit 0 when Redis answers
  redis-harden URL                  AOF on, loopback bind, CONFIG REWRITE`;

const gone = (done: boolean) => (done ? "removed" : "absent");

async function run([job, ...args]: string[]): Promise<number> {
  const need = (n: number) => {
    if (args.length < n) throw new Error(`${job} needs ${n} arguments\n${usage}`);
  };
  switch (job) {
    case "config-get": {
      need(1);
      let value: unknown = loadConfig();
      for (const part of args[0]!.split(".")) value = (value as Record<string, unknown> | undefined)?.[part];
      console.log(value ?? "");
      return 0;
    }
    case "json-set":
      need(3);
      console.log(setKey(args[0]!, args[1]!, args[2]!));
      return 0;
    case "json-set-secret": {
      need(2);
      const value = readFileSync(0, "utf8").trim();
      if (!value) throw new Error("json-set-secret: no value on stdin");
      console.log(setKey(args[0]!, args[1]!, value));
      chmodSync(args[0]!, 0o600);
      return 0;
    }
    case "json-unset":
      need(2);
      console.log(gone(unsetKey(args[0]!, args[1]!)));
      return 0;
    case "list-add":
      need(3);
      console.log(addListEntry(args[0]!, args[1]!, args[2]!));
      return 0;
    case "list-remove":
      need(3);
      console.log(gone(removeListEntry(args[0]!, args[1]!, args[2]!)));
      return 0;
    case "remove-if-empty":
      need(1);
      console.log(gone(removeIfEmpty(args[0]!)));
      return 0;
    case "render": {
      need(2);
      const values = Object.fromEntries(args.slice(2).map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]));
      console.log(renderFile(args[0]!, args[1]!, values));
      return 0;
    }
    case "redis-ping": {
      need(1);
      const problem = await ping(args[0]!);
      if (problem) console.error(problem);
      return problem ? 1 : 0;
    }
    case "redis-harden":
      need(1);
      console.log((await harden(args[0]!)).join(", ") || "unchanged");
      return 0;
    default:
      console.error(usage);
      return 2;
  }
}

try {
  process.exitCode = await run(process.argv.slice(2));
} catch (error) {
  console.error(`setup: ${(error as Error).message}`);
  process.exitCode = 1;
}
