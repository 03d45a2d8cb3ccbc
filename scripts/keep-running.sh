#!/usr/bin/env bash
# Runs a command again after it fails, the way systemd's Restart=on-failure with
# RestartPreventExitStatus=78 would: exit 0 (asked to stop) or 78 (configuration error,
# restarting cannot fix it) ends the loop. Used where no service manager runs (setup's
# fallback) and around the central pi inside tmux. The command runs in the foreground so an
# interactive pi keeps its terminal; stop the whole process group to stop both.
set -uo pipefail

if [ "$#" -eq 0 ] || [ "$1" = "--help" ]; then
  echo "Usage: keep-running.sh COMMAND [ARGS...]   (KEEP_RUNNING_DELAY seconds between restarts, default 5)"
  exit 2
fi
delay="${KEEP_RUNNING_DELAY:-5}"

while :; do
  "$@"
  status=$?
  case "$status" in
    0) exit 0 ;;
    78)
      echo "keep-running: $1 stopped with a configuration error (exit 78); fix it, then start it again" >&2
      exit 78
      ;;
  esac
  echo "keep-running: $1 exited with status $status; restarting in ${delay}s" >&2
  sleep "$delay"
done
