// `agent-gateway pairing list|approve|deny|revoke`: decide on Telegram chats that asked to
// talk to the agent. An unknown chat is given a code once; approving it lets the chat in for
// good (until revoked), denying it keeps the chat unanswered until the code would expire.
import { EXIT } from "../../core/config.ts";
import { formatDuration } from "../../core/duration.ts";
import { oneLine } from "../../core/quote.ts";
import { loadSigner } from "../../core/signing.ts";
import {
  approvePairing,
  denyPairing,
  listPaired,
  listPairings,
  revokePaired,
  type PairingRequest,
} from "../../daemon/channels/telegram/pairing-store.ts";
import { configFrom, parse, UsageError, withRedis, type Command } from "../cli-kit.ts";

const usage = `Usage: agent-gateway pairing <list | approve <code> | deny <code> | revoke <chat id>> [--json]

Telegram chats that are not in telegram.allowedChats get a pairing code (once) when they write
to the bot. The owner decides here:

  list            pending codes (who asked, when they expire) and the chats already paired
  approve <code>  let that chat talk to the agent from now on
  deny <code>     refuse it; the chat is not answered again until the code would have expired
  revoke <chat>   remove a chat that was let in by pairing

Options:
  --json   print the result as JSON

Exit codes: 0 ok, 1 unknown or expired code (or chat not paired), 2 usage error.`;

const describeRequest = (r: PairingRequest) =>
  `${oneLine(r.code)}  chat ${r.chatId}  ${oneLine(r.who)}  asked ${formatDuration(Date.now() - r.requestedAt)} ago, expires in ${formatDuration(Math.max(0, r.expiresAt - Date.now()))}`;

export const command: Command = {
  summary: "approve or deny Telegram chats asking for access (pairing codes)",
  usage,
  async run(args, io) {
    const { values, positionals } = parse(args, { json: { type: "boolean", default: false } });
    const [action, target, ...extra] = positionals;
    if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
    if (action === "list") {
      if (target) throw new UsageError(`"list" takes no argument`);
    } else if (action === "approve" || action === "deny" || action === "revoke") {
      if (!target) throw new UsageError(`"${action}" needs a ${action === "revoke" ? "chat id" : "code"}`);
      if (action === "revoke" && !/^-?\d+$/.test(target)) throw new UsageError(`"${target}" is not a chat id`);
    } else {
      throw new UsageError(action ? `unknown action "${action}" (list, approve, deny, revoke)` : "missing action (list, approve, deny, revoke)");
    }
    const config = configFrom(io);
    const signer = loadSigner(config.home);
    return withRedis(config, async (redis) => {
      if (action === "list") {
        const [pending, { paired, refused }] = await Promise.all([listPairings(redis, config.prefix), listPaired(redis, config.prefix, signer)]);
        if (values.json) io.stdout(JSON.stringify({ pending, paired, refused }));
        else {
          io.stdout(pending.length ? ["pending:", ...pending.map((r) => `  ${describeRequest(r)}`)].join("\n") : "no pending pairing codes");
          io.stdout(paired.length ? `paired chats: ${paired.join(", ")}` : "no chats paired yet");
          if (refused.length) io.stdout(`not pairings (no valid signature; never admitted): ${refused.map((r) => oneLine(r, 60)).join(", ")}`);
        }
        return EXIT.ok;
      }
      if (action === "revoke") {
        const removed = await revokePaired(redis, config.prefix, Number(target), signer);
        if (values.json) io.stdout(JSON.stringify({ revoked: removed, chatId: Number(target) }));
        else if (removed) io.stdout(`chat ${target} can no longer talk to the agent (unless it is in telegram.allowedChats)`);
        else io.stderr(`agent-gateway pairing: chat ${target} was not paired`);
        return removed ? EXIT.ok : EXIT.failure;
      }
      const decided = action === "approve" ? await approvePairing(redis, config.prefix, target!, signer) : await denyPairing(redis, config.prefix, target!);
      if (!decided) {
        io.stderr(`agent-gateway pairing: no pending code "${target}" (unknown, already decided, or expired); see \`agent-gateway pairing list\``);
        return EXIT.failure;
      }
      if (values.json) io.stdout(JSON.stringify({ [action === "approve" ? "approved" : "denied"]: decided }));
      else io.stdout(action === "approve" ? `approved: chat ${decided.chatId} (${oneLine(decided.who)}) can now talk to the agent` : `denied: chat ${decided.chatId} (${oneLine(decided.who)})`);
      return EXIT.ok;
    }, "agent-gateway-pairing");
  },
};
