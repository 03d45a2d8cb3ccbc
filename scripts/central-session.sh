#!/usr/bin/env bash
# The always-on central pi session: `GATEWAY_ROLE=central pi` in a detached tmux session
# (attach with `tmux attach -t agent-gateway`), restarted by keep-running.sh --always whatever
# its exit code but 78 (so Ctrl+D brings a fresh pi back; `stop` ends it for good). Its lease
# says supervised (GATEWAY_SUPERVISED=1), which `status` shows. `ensure` starts it when absent and prints
# "started" or "running"; `supervise` (for launchd/systemd) ensures it, then waits and exits 1
# once it is gone so the supervisor brings it back; `stop` ends it.
set -euo pipefail

SESSION="agent-gateway"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

running() { tmux has-session -t "=$SESSION" 2>/dev/null; }

ensure() {
  if running; then
    echo running
    return
  fi
  local pi_bin
  if ! pi_bin="$(command -v pi)"; then
    echo "central-session: pi is not on PATH; install it: npm install -g @mariozechner/pi-coding-agent" >&2
    exit 78
  fi
  # tmux may already run a server with another environment: pass what pi needs explicitly.
  local env_args=(-e GATEWAY_ROLE=central -e GATEWAY_SUPERVISED=1 -e "PATH=$PATH")
  local var
  for var in HOME AGENT_GATEWAY_HOME PI_CODING_AGENT_DIR REDIS_URL; do
    if [ -n "${!var:-}" ]; then env_args+=(-e "$var=${!var}"); fi
  done
  tmux new-session -d -s "$SESSION" -c "$HOME" "${env_args[@]}" \
    "$(printf '%q ' "$here/keep-running.sh" --always "$pi_bin")"
  echo started
}

case "${1:-}" in
  ensure) ensure ;;
  supervise)
    ensure >/dev/null
    while running; do sleep 15; done
    echo "central-session: tmux session $SESSION ended" >&2
    exit 1
    ;;
  stop)
    if running; then tmux kill-session -t "=$SESSION"; echo stopped; else echo absent; fi
    ;;
  *)
    echo "Usage: central-session.sh ensure|supervise|stop"
    [ "${1:-}" = "--help" ] && exit 0
    exit 2
    ;;
esac
