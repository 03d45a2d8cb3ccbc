#!/bin/sh
# Example heartbeat.precheck for the default HEARTBEAT.md checks, run before each heartbeat
# prompt. Silent with exit 0 when all is green (the heartbeat then costs no LLM turn); prints
# what needs attention and exits 1 otherwise (that text goes into the heartbeat prompt, quoted).
# Use it: "heartbeat": { "precheck": "/path/to/agent-gateway/scripts/heartbeat-precheck.sh" }
# Knobs (environment): PRECHECK_WORKER_URL (default http://127.0.0.1:8787; "off" skips it),
# PRECHECK_MAX_BACKLOG (default 100: a larger waiting backlog in any inbox is reported).
set -u
problems=""
say() { problems="${problems}$1
"; }

worker="${PRECHECK_WORKER_URL:-http://127.0.0.1:8787}"
max_backlog="${PRECHECK_MAX_BACKLOG:-100}"

# Redis reachable, backlog and dead letters per inbox: agent-gateway status --json.
if ! status=$(agent-gateway status --json 2>&1); then
  say "agent-gateway status failed (Redis unreachable?): $(printf '%s' "$status" | head -c 500)"
else
  # shellcheck disable=SC2016 # the single-quoted text is JavaScript: its ${...} are template literals
  findings=$(printf '%s' "$status" | MAX="$max_backlog" node -e '
    let text = ""; process.stdin.on("data", (d) => (text += d)).on("end", () => {
      const report = JSON.parse(text);
      for (const i of report.inboxes ?? []) {
        if (i.dead > 0) console.log(`inbox ${i.session}: ${i.dead} dead letter(s) (agent-gateway dead ${i.session})`);
        if (i.backlog > Number(process.env.MAX)) console.log(`inbox ${i.session}: ${i.backlog} events waiting`);
      }
      if (report.spool?.waiting > 0) console.log(`spool: ${report.spool.waiting} event(s) waiting for Redis`);
    });')
  [ -n "$findings" ] && say "$findings"
fi

# The worker's open /health (skipped when no worker runs here).
if [ "$worker" != "off" ] && command -v curl >/dev/null 2>&1; then
  if ! curl -fsS -m 5 "$worker/health" >/dev/null 2>&1; then say "worker $worker/health does not answer"; fi
fi

[ -z "$problems" ] && exit 0
printf '%s' "$problems"
exit 1
