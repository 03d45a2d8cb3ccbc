#!/usr/bin/env bash
# Runs a command again when it ends, where no service manager runs (setup's fallback) and
# around the central pi inside tmux. Default rule, as systemd's Restart=on-failure with
# RestartPreventExitStatus=78: exit 0 (asked to stop) or 78 (configuration error, restarting
# cannot fix it) ends the loop; other exits restart after KEEP_RUNNING_DELAY seconds (default 5).
# With --always (the central pi: Ctrl+D in the attached session exits 0, and central must come
# back), every exit but 78 restarts, backing off 1 s, 2 s, 4 s … 60 s while it keeps dying, and
# from 1 s again after a run that lasted a minute. The command runs in the foreground so an
# interactive pi keeps its terminal; stop the whole process group (or the tmux session) to stop both.
set -uo pipefail

always=0
if [ "${1:-}" = "--always" ]; then
  always=1
  shift
fi
if [ "$#" -eq 0 ] || [ "$1" = "--help" ]; then
  echo "Usage: keep-running.sh [--always] COMMAND [ARGS...]   (KEEP_RUNNING_DELAY seconds between restarts, default 5; --always backs off 1 s → 60 s)"
  exit 2
fi
delay="${KEEP_RUNNING_DELAY:-5}"
backoff=1

while :; do
  started=$SECONDS
  "$@"
  status=$?
  if [ "$status" -eq 78 ]; then
    echo "keep-running: $1 stopped with a configuration error (exit 78); fix it, then start it again" >&2
    exit 78
  fi
  if [ "$always" -eq 0 ]; then
    [ "$status" -eq 0 ] && exit 0
    echo "keep-running: $1 exited with status $status; restarting in ${delay}s" >&2
    sleep "$delay"
    continue
  fi
  if [ $((SECONDS - started)) -ge 60 ]; then backoff=1; fi
  echo "keep-running: $1 exited with status $status; restarting in ${backoff}s (stop it for good: scripts/central-session.sh stop)" >&2
  sleep "$backoff"
  backoff=$((backoff * 2))
  if [ "$backoff" -gt 60 ]; then backoff=60; fi
done
