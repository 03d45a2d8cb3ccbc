#!/usr/bin/env bash
# setup.sh — installs agent-gateway tier by tier, idempotently (a second run changes nothing and
# says so), and removes exactly what it installed with --uninstall. Works from a checkout
# (`./setup.sh 2`) and piped (`curl -sL <url>/setup.sh | bash -s -- 2`): it never reads answers
# from the pipe. Everything it creates is listed in <home>/setup-manifest for --uninstall.
#
# Tiers (each includes the ones before): 1 notification bridge · 2 always-on · 3 multi-session ·
# 4 external channels (the daemon replaces the tmux central session; Telegram, WebSocket).
# A new tier is one more `install_tier_N` function (the highest defined one is the maximum).
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: setup.sh [TIER] [--yes] [--redis-url URL] [--repo GIT_URL] [--uninstall]

  TIER              1 notification bridge · 2 always-on (worker, heartbeat, central pi in
                    tmux, services) · 3 multi-session (ordinary pi sessions become satellites)
                    · 4 external channels (the daemon is the central session; Telegram and
                    WebSocket; settings from TELEGRAM_BOT_TOKEN, TELEGRAM_ALLOWED_CHATS,
                    GATEWAY_WS_TOKEN, or asked on a terminal).
                    No tier and no terminal: tier 1.
  --yes             answer yes to every question (questions are only asked on a terminal)
  --redis-url URL   use this Redis (saved to config.json); default $REDIS_URL or local 6379
  --repo GIT_URL    outside a checkout: clone from here (or $AGENT_GATEWAY_REPO) into
                    $AGENT_GATEWAY_DIR (default ~/.local/share/agent-gateway)
  --uninstall       remove what setup installed (listed in <home>/setup-manifest)

Home of the gateway's files: $AGENT_GATEWAY_HOME (default ~/.config/agent-gateway).
AGENT_GATEWAY_SERVICES=launchd|systemd|fallback overrides the detected service manager.
EOF
}

# ---------------------------------------------------------------- output and bookkeeping

CHANGES=()
# How the closing "Verify" line names the CLI: its full path when the link is not on PATH.
CLI_COMMAND=agent-gateway
# Set when this shell still lacks ~/.local/bin on PATH; the last lines print it.
PATH_EXPORT=""
# Set once this run wrote config.json or rebuilt dist/: services already running are restarted.
RESTART_NEEDED=0
say() { printf '%s\n' "$*"; }
done_ok() { say "  ok       $*"; }
did() { CHANGES+=("$*"); say "  changed  $*"; }
warn() { say "  note     $*"; }
die() {
  printf 'setup: %s\n' "$1" >&2
  exit "${2:-1}"
}
has() { command -v "$1" >/dev/null 2>&1; }

GW_HOME="${AGENT_GATEWAY_HOME:-$HOME/.config/agent-gateway}"
MANIFEST="$GW_HOME/setup-manifest"
STATE="$GW_HOME/setup-state"

# One line per thing setup created: "<kind>\t<path>[\t<detail>]". A rendered or copied file
# keeps one line (with its newest checksum); other lines are added once.
manifest_put() {
  local kind="$1" path="$2" detail="${3:-}" line
  line="$kind"$'\t'"$path"
  [ -n "$detail" ] && line+=$'\t'"$detail"
  touch "$MANIFEST"
  if grep -Fxq -- "$line" "$MANIFEST"; then return; fi
  if [ "$kind" = file ]; then
    awk -F '\t' -v p="$path" '!($1 == "file" && $2 == p)' "$MANIFEST" >"$MANIFEST.tmp"
    mv "$MANIFEST.tmp" "$MANIFEST"
  fi
  printf '%s\n' "$line" >>"$MANIFEST"
}
in_manifest() { [ -f "$MANIFEST" ] && awk -F '\t' -v k="$1" -v p="$2" '$1 == k && $2 == p { found = 1 } END { exit !found }' "$MANIFEST"; }

state_get() { [ -f "$STATE" ] && sed -n "s/^$1=//p" "$STATE" | tail -n 1; }
state_set() {
  local key="$1" value="$2"
  [ "$(state_get "$key" || true)" = "$value" ] && return
  { [ -f "$STATE" ] && grep -v "^$key=" "$STATE"; printf '%s=%s\n' "$key" "$value"; } >"$STATE.tmp" || true
  mv "$STATE.tmp" "$STATE"
}

# mkdir -p that records each directory it had to create (removed at uninstall when empty).
make_dir() {
  local dir="$1" missing=()
  while [ ! -d "$dir" ]; do
    missing=("$dir" ${missing[@]+"${missing[@]}"})
    dir="$(dirname "$dir")"
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  mkdir -p "$1"
  for dir in "${missing[@]}"; do manifest_put dir "$dir"; done
}

file_sha() {
  if has sha256sum; then sha256sum "$1" | cut -d ' ' -f 1; else shasum -a 256 "$1" | cut -d ' ' -f 1; fi
}

# Asks on the terminal (never on stdin: that may be this very script, piped). No terminal or
# --yes: the default answer, yes.
confirm() {
  [ "$ASSUME_YES" = 1 ] && return 0
  { : </dev/tty; } 2>/dev/null || return 0
  local answer
  printf '%s [Y/n] ' "$1" >/dev/tty
  read -r answer </dev/tty || answer=""
  case "$answer" in [nN]*) return 1 ;; *) return 0 ;; esac
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif has sudo; then sudo "$@"; else return 1; fi
}

# ---------------------------------------------------------------- arguments

TIER=""
ASSUME_YES=0
UNINSTALL=0
REDIS_FLAG=""
REPO_URL="${AGENT_GATEWAY_REPO:-}"
max_tier() {
  local n=1
  while declare -F "install_tier_$((n + 1))" >/dev/null; do n=$((n + 1)); done
  echo "$n"
}

parse_args() {
  while [ "$#" -gt 0 ]; do
    case "$1" in
      -h | --help) usage; exit 0 ;;
      --yes | -y) ASSUME_YES=1 ;;
      --uninstall) UNINSTALL=1 ;;
      --redis-url) [ "$#" -ge 2 ] || die "--redis-url needs a URL" 2; REDIS_FLAG="$2"; shift ;;
      --redis-url=*) REDIS_FLAG="${1#*=}" ;;
      --repo) [ "$#" -ge 2 ] || die "--repo needs a git URL" 2; REPO_URL="$2"; shift ;;
      --repo=*) REPO_URL="${1#*=}" ;;
      [0-9]) TIER="$1" ;;
      *) die "unknown argument \"$1\" (setup.sh --help lists the options)" 2 ;;
    esac
    shift
  done
  if [ -n "$TIER" ] && { [ "$TIER" -lt 1 ] || [ "$TIER" -gt "$(max_tier)" ]; }; then
    die "tier $TIER is not available here: tiers 1 to $(max_tier)" 2
  fi
}

choose_tier() {
  [ -n "$TIER" ] && return
  if [ "$ASSUME_YES" = 0 ] && { : </dev/tty; } 2>/dev/null; then
    printf 'Which tier? 1 notification bridge, 2 always-on, 3 multi-session, 4 Telegram/WebSocket [1]: ' >/dev/tty
    read -r TIER </dev/tty || TIER=""
    TIER="${TIER:-1}"
    case "$TIER" in [1-9]) parse_args "$TIER" ;; *) die "not a tier: $TIER" 2 ;; esac
  else
    TIER=1
    say "No tier given and no terminal to ask on: installing tier 1 (pass 2 or 3 for more)."
  fi
}

# ---------------------------------------------------------------- prerequisites

check_node() {
  local install="install Node.js 22 (e.g. \`nvm install 22\`, or \`brew install node\` on macOS), then run setup again"
  has node || die "Node.js >= 20.6 is required and not installed: $install"
  local version major minor
  version="$(node -p 'process.versions.node')"
  major="${version%%.*}"
  minor="${version#*.}"
  minor="${minor%%.*}"
  if [ "$major" -lt 20 ] || { [ "$major" -eq 20 ] && [ "$minor" -lt 6 ]; }; then
    die "Node.js >= 20.6 is required, found $version: $install"
  fi
  done_ok "Node.js $version"
}

PI_PACKAGE="@mariozechner/pi-coding-agent"

# pi is what the gateway talks to; a machine without it gets it from npm (asked, like Redis).
install_pi() {
  confirm "pi is not installed. Install it with npm install -g $PI_PACKAGE?" || die "pi is required: npm install -g $PI_PACKAGE" 1
  npm install -g --no-audit --no-fund "$PI_PACKAGE" >/dev/null 2>&1 || die "could not install pi: npm install -g $PI_PACKAGE"
  hash -r
  has pi || die "pi was installed but is not on PATH: add \"$(npm prefix -g)/bin\" to PATH and run setup again"
  manifest_put package "$PI_PACKAGE" npm
  did "installed pi (npm install -g $PI_PACKAGE)"
}

check_pi() {
  local version
  has pi || install_pi
  # pi prints its version on stderr.
  version="$(pi --version 2>&1)" || die "\`pi --version\` failed; reinstall pi: npm install -g @mariozechner/pi-coding-agent"
  done_ok "pi ${version##*$'\n'}"
}

is_checkout() {
  [ -f "$1/package.json" ] && [ -f "$1/setup.sh" ] && grep -q '"name": "agent-gateway"' "$1/package.json"
}

# The project: this script's checkout, else the current directory's, else a clone in a fixed
# directory (pulled again on a re-run, which upgrades it in place).
locate_repo() {
  local source_dir=""
  if [ -n "${BASH_SOURCE[0]:-}" ] && [ -f "${BASH_SOURCE[0]}" ]; then
    source_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
  fi
  if [ -n "$source_dir" ] && is_checkout "$source_dir"; then REPO="$source_dir"; return; fi
  if is_checkout "$PWD"; then REPO="$PWD"; return; fi
  REPO="${AGENT_GATEWAY_DIR:-$HOME/.local/share/agent-gateway}"
  if is_checkout "$REPO"; then
    if [ -d "$REPO/.git" ] && in_manifest clone "$REPO"; then
      local before after
      before="$(git -C "$REPO" rev-parse HEAD)"
      git -C "$REPO" pull --ff-only --quiet || die "could not update $REPO (git pull --ff-only failed); resolve it there and run setup again"
      after="$(git -C "$REPO" rev-parse HEAD)"
      if [ "$before" = "$after" ]; then done_ok "project at $REPO is up to date"; else did "updated $REPO to $(git -C "$REPO" rev-parse --short HEAD)"; fi
    fi
    return
  fi
  [ -n "$REPO_URL" ] || die "not inside an agent-gateway checkout, and no repository given: pass --repo GIT_URL or set AGENT_GATEWAY_REPO (it is cloned into $REPO)" 2
  has git || die "git is needed to fetch the project: apt-get install -y git (or brew install git)"
  make_dir "$(dirname "$REPO")"
  git clone --quiet "$REPO_URL" "$REPO" || die "git clone $REPO_URL $REPO failed"
  manifest_put clone "$REPO"
  did "cloned $REPO_URL into $REPO"
}

tool() { (cd "$REPO" && node --import tsx scripts/setup/tool.ts "$@"); }
cli() { node "$REPO/scripts/agent-gateway.mjs" "$@"; }

install_dependencies() {
  if [ -d "$REPO/node_modules" ] && (cd "$REPO" && npm ls --depth=0 >/dev/null 2>&1); then
    done_ok "dependencies installed ($REPO/node_modules)"
    return
  fi
  [ -d "$REPO/node_modules" ] || manifest_put node_modules "$REPO/node_modules"
  [ -d "$REPO/dist" ] || manifest_put build "$REPO/dist"
  # npm's summary ("added N packages") goes to standard output; its errors still show.
  (cd "$REPO" && npm ci --no-audit --no-fund --no-update-notifier --loglevel=error >/dev/null) || die "npm ci failed in $REPO (see the output above)"
  did "installed dependencies (npm ci in $REPO)"
}

# The build in dist/ (npm ci's prepare makes one): rebuilt when it is older than the sources,
# e.g. after a `git pull`, since every command runs the build.
ensure_build() {
  local state
  # The CLI keeps V8's compiled code in the user's cache directory (scripts/compile-cache.mjs).
  make_dir "${XDG_CACHE_HOME:-$HOME/.cache}/agent-gateway"
  manifest_put code-cache "${XDG_CACHE_HOME:-$HOME/.cache}/agent-gateway"
  state="$(cd "$REPO" && node --input-type=module -e 'import { buildState } from "./scripts/build-state.mjs"; console.log(buildState(".").state)')"
  if [ "$state" = fresh ]; then
    done_ok "build up to date ($REPO/dist)"
    return
  fi
  [ -d "$REPO/dist" ] || manifest_put build "$REPO/dist"
  (cd "$REPO" && node scripts/build.mjs >/dev/null 2>&1) || die "the build failed: run  npm run build --prefix $REPO  to see why"
  did "built $REPO/dist (it was $state)"
  RESTART_NEEDED=1
}

# ---------------------------------------------------------------- Redis

redis_url() {
  if [ -n "$REDIS_FLAG" ]; then printf '%s' "$REDIS_FLAG"; else tool config-get redisUrl; fi
}
# The URL with any password replaced by ***, for messages and the manifest.
# The shell twin of core/mask.ts (setup runs it before node_modules exist); test/security checks
# both on the same URLs: credentials up to the last "@" and password-like query values hidden.
masked_url() {
  printf '%s' "$1" | sed -E -e 's#^((rediss?:)?//)([^:@]*):.*@#\1\3:***@#' -e 's#^((rediss?:)?//)[^:@]*@#\1***@#' \
    -e 's#([?&][^=&#]*[Pp][Aa][Ss][Ss][^=&#]*=)[^&#]*#\1***#g'
}
is_local_url() { [[ "$1" =~ ^redis://([^@/]*@)?(127\.0\.0\.1|localhost|\[::1\])(:[0-9]+)?(/.*)?$ ]]; }

install_redis_package() {
  if has apt-get; then
    confirm "Install redis-server with apt-get?" || die "Redis is required: apt-get install -y redis-server" 1
    if ! { as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }; then
      die "could not install Redis; run as root: apt-get update && apt-get install -y redis-server"
    fi
    manifest_put package redis-server apt
    did "installed redis-server (apt-get)"
  elif has brew; then
    confirm "Install Redis with Homebrew?" || die "Redis is required: brew install redis" 1
    brew install redis >/dev/null || die "could not install Redis: brew install redis"
    manifest_put package redis brew
    did "installed redis (brew)"
  else
    die "Redis is not installed and neither apt-get nor brew is here: install redis-server, start it, and run setup again (or pass --redis-url)"
  fi
}

start_redis_service() {
  if has brew && [ "$(uname)" = Darwin ]; then
    brew services start redis >/dev/null && return
  elif [ -d /run/systemd/system ] && has systemctl; then
    as_root systemctl enable --now redis-server >/dev/null 2>&1 && return
  elif has service && [ -x /etc/init.d/redis-server ]; then
    as_root service redis-server start >/dev/null 2>&1 && return
  fi
  [ -f /etc/redis/redis.conf ] && as_root redis-server /etc/redis/redis.conf --daemonize yes >/dev/null 2>&1
}

# The counterpart of start_redis_service for a package setup installed: with no systemd
# (containers) removing the package does not stop a server started from its init script.
stop_redis_service() {
  if [ -d /run/systemd/system ] && has systemctl; then
    as_root systemctl disable --now redis-server >/dev/null 2>&1 && return
  elif has service && [ -x /etc/init.d/redis-server ]; then
    as_root service redis-server stop >/dev/null 2>&1 && return
  fi
  local pidfile=/run/redis/redis-server.pid
  if [ -f "$pidfile" ]; then as_root kill "$(cat "$pidfile")" 2>/dev/null || true; fi
}

# The Redis package (apt's redis-server, brew's redis) was installed by setup.
redis_installed_here() { in_manifest package redis-server || in_manifest package redis; }

ensure_redis() {
  local url
  url="$(redis_url)"
  if tool redis-ping "$url" >/dev/null 2>&1; then
    done_ok "Redis reachable at $(masked_url "$url")"
  else
    is_local_url "$url" || die "Redis at $(masked_url "$url") is unreachable: check the URL (--redis-url) and that the server runs" 1
    has redis-server || install_redis_package
    start_redis_service || true
    local tries=0
    until tool redis-ping "$url" >/dev/null 2>&1; do
      tries=$((tries + 1))
      [ "$tries" -lt 10 ] || die "Redis did not start; start it yourself: systemctl enable --now redis-server (or: redis-server /etc/redis/redis.conf --daemonize yes; macOS: brew services start redis)"
      sleep 1
    done
    did "started Redis at $(masked_url "$url")"
    # --uninstall leaves it running (it may hold other data) and says so; a package setup
    # installed is removed instead.
    redis_installed_here || manifest_put redis-started "$(masked_url "$url")"
  fi
  # Loopback binding and AOF: only on a Redis setup installed; doctor reports on any other.
  if redis_installed_here; then
    local hardened
    hardened="$(tool redis-harden "$url")"
    if [ "$hardened" = unchanged ]; then done_ok "Redis bound to loopback, AOF on"; else did "configured Redis: $hardened"; fi
  fi
  if [ -n "$REDIS_FLAG" ] || [ -n "${REDIS_URL:-}" ]; then set_config redisUrl "$url"; fi
}

# ---------------------------------------------------------------- files setup owns

# Records a config.json write (created / changed / unchanged) in the manifest and reports it.
config_written() {
  local result="$1" file="$2" key="$3" unchanged="$4" changed="$5"
  [ "$result" = created ] && manifest_put json-created "$file"
  [ "$result" = unchanged ] || RESTART_NEEDED=1
  manifest_put json-key "$file" "$key"
  if [ "$result" = unchanged ]; then done_ok "$unchanged"; else did "$changed"; fi
}

# Sets one key of <home>/config.json, recording it so --uninstall can take it out again.
set_config() {
  local key="$1" value="$2" file="$GW_HOME/config.json" result
  result="$(tool json-set "$file" "$key" "$value")"
  # A Redis URL may carry a password: shown masked, stored as given (config.json is 0600).
  [ "$key" = redisUrl ] && value="$(masked_url "$value")"
  config_written "$result" "$file" "$key" "config.json $key = $value" "config.json $key = $value"
}

register_extension() {
  local settings="${PI_CODING_AGENT_DIR:-$HOME/.pi/agent}/settings.json" result
  make_dir "$(dirname "$settings")"
  result="$(tool list-add "$settings" packages "$REPO")"
  [ "$result" = created ] && manifest_put json-created "$settings"
  manifest_put pi-package "$settings" "$REPO"
  if [ "$result" = unchanged ]; then done_ok "pi loads the extension ($settings \"packages\")"; else did "registered the extension with pi ($settings \"packages\": $REPO)"; fi
}

link_cli() {
  local bin_dir="$HOME/.local/bin" link target="$REPO/scripts/agent-gateway.mjs"
  link="$bin_dir/agent-gateway"
  if [ -L "$link" ] && [ "$(readlink "$link")" = "$target" ]; then
    done_ok "agent-gateway command: $link"
  elif [ -e "$link" ] && ! [ -L "$link" ]; then
    warn "$link exists and is not setup's link; left alone (run $target directly)"
    CLI_COMMAND="$target"
    return
  else
    make_dir "$bin_dir"
    ln -sfn "$target" "$link"
    manifest_put link "$link" "$target"
    did "agent-gateway command: $link -> $target"
  fi
  case ":$PATH:" in
    *":$bin_dir:"*) ;;
    *) add_bin_dir_to_profile ;;
  esac
}

# The profile file an interactive shell of the user's reads.
shell_profile() {
  case "${SHELL:-}" in
    */zsh) printf '%s' "$HOME/.zshrc" ;;
    */bash) if [ "$(uname -s)" = Darwin ]; then printf '%s' "$HOME/.bash_profile"; else printf '%s' "$HOME/.bashrc"; fi ;;
    *) printf '%s' "$HOME/.profile" ;;
  esac
}

# ~/.local/bin is not on PATH: one line in the shell profile puts it there for new shells (asked
# once; --uninstall takes the line out); this shell needs the same export, which the last lines say.
add_bin_dir_to_profile() {
  # shellcheck disable=SC2016 # the profile expands $HOME and $PATH when the shell reads it
  local profile export_line='export PATH="$HOME/.local/bin:$PATH"'
  local line="$export_line  # added by agent-gateway setup"
  profile="$(shell_profile)"
  PATH_EXPORT="$export_line"
  if [ -f "$profile" ] && grep -Fxq -- "$line" "$profile"; then
    done_ok "$profile puts ~/.local/bin on PATH (new shells)"
  elif confirm "Add ~/.local/bin to PATH in $profile?"; then
    [ -e "$profile" ] || manifest_put profile-created "$profile"
    printf '%s\n' "$line" >>"$profile"
    manifest_put profile-line "$profile" "$line"
    did "$profile puts ~/.local/bin on PATH (new shells)"
  else
    CLI_COMMAND="$HOME/.local/bin/agent-gateway"
    PATH_EXPORT=""
    warn "$HOME/.local/bin is not on your PATH: run the command as $CLI_COMMAND"
  fi
}

# Copies a template once; never overwrites a file the user edited, but upgrades one that is
# still exactly what setup wrote last time.
install_template() {
  local template="$1" target="$2" label="$3" recorded current
  if [ -f "$target" ]; then
    current="$(file_sha "$target")"
    [ "$current" = "$(file_sha "$template")" ] && { done_ok "$label"; return; }
    recorded="$(awk -F '\t' -v p="$target" '$1 == "file" && $2 == p { print $3 }' "$MANIFEST")"
    if [ "$current" != "$recorded" ]; then
      done_ok "$label (yours, edited: left as it is)"
      return
    fi
  fi
  cp "$template" "$target"
  manifest_put file "$target" "$(file_sha "$target")"
  did "$label"
}

# Renders a service template; returns 0 when the file changed (so the service is reloaded).
render_service() {
  local template="$1" target="$2" result
  make_dir "$(dirname "$target")"
  result="$(tool render "$template" "$target" "NODE=$(command -v node)" "REPO=$REPO" "HOME=$HOME" \
    "GATEWAY_HOME=$GW_HOME" "PATH=$SERVICE_PATH")"
  manifest_put file "$target" "$(file_sha "$target")"
  [ "$result" != unchanged ]
}

# ---------------------------------------------------------------- services (tier 2)

service_mode() {
  case "${AGENT_GATEWAY_SERVICES:-}" in
    launchd | systemd | fallback) echo "$AGENT_GATEWAY_SERVICES"; return ;;
    "") ;;
    *) die "AGENT_GATEWAY_SERVICES must be launchd, systemd or fallback, not \"$AGENT_GATEWAY_SERVICES\"" 2 ;;
  esac
  if [ "$(uname)" = Darwin ]; then
    echo launchd
  elif has systemctl && systemctl --user show-environment >/dev/null 2>&1; then
    echo systemd
  else
    echo fallback
  fi
}

services_launchd() {
  local dir="$HOME/Library/LaunchAgents" name label plist domain
  domain="gui/$(id -u)"
  # From tier 4 on the daemon is the central session (install_tier_4), not tmux.
  for name in worker $([ "$TIER" -ge 4 ] || echo central) tripwire; do
    label="dev.agent-gateway.$name"
    plist="$dir/$label.plist"
    if render_service "$REPO/launchagents/$label.plist" "$plist"; then
      launchctl bootout "$domain/$label" >/dev/null 2>&1 || true
      launchctl bootstrap "$domain" "$plist" || die "launchctl bootstrap $domain $plist failed"
      manifest_put launchagent "$label" "$plist"
      did "LaunchAgent $label loaded"
    elif launchctl print "$domain/$label" >/dev/null 2>&1; then
      done_ok "LaunchAgent $label loaded"
    else
      launchctl bootstrap "$domain" "$plist" || die "launchctl bootstrap $domain $plist failed"
      manifest_put launchagent "$label" "$plist"
      did "LaunchAgent $label loaded"
    fi
  done
}

services_systemd() {
  local dir="$HOME/.config/systemd/user" unit changed=() active
  for unit in agent-gateway-worker.service $([ "$TIER" -ge 4 ] || echo agent-gateway-central.service) agent-gateway-tripwire.service agent-gateway-tripwire.timer; do
    if render_service "$REPO/launchagents/systemd/$unit" "$dir/$unit"; then changed+=("$unit"); fi
  done
  [ "${#changed[@]}" -gt 0 ] && systemctl --user daemon-reload
  for unit in agent-gateway-worker.service $([ "$TIER" -ge 4 ] || echo agent-gateway-central.service) agent-gateway-tripwire.timer; do
    manifest_put systemd "$unit"
    active="$(systemctl --user is-active "$unit" 2>/dev/null || true)"
    if [ "$active" = active ] && [ "$RESTART_NEEDED" = 1 ] && [ "$unit" = agent-gateway-worker.service ]; then
      systemctl --user restart "$unit" || die "systemctl --user restart $unit failed: see journalctl --user -u $unit"
      did "systemd user unit $unit restarted: config or build changed"
    elif [ "$active" = active ] && ! printf '%s\n' "${changed[@]}" | grep -q "^${unit%.*}"; then
      done_ok "systemd user unit $unit running"
    else
      systemctl --user enable --quiet "$unit"
      systemctl --user restart "$unit" || die "systemctl --user restart $unit failed: see journalctl --user -u $unit"
      did "systemd user unit $unit enabled and (re)started"
    fi
  done
  if has loginctl && [ "$(loginctl show-user "$(id -un)" -p Linger --value 2>/dev/null || true)" != yes ]; then
    warn "to keep these running after you log out: loginctl enable-linger $(id -un)"
  fi
}

# The worker's POST /events needs a bearer token: one is made unless config.json or the
# environment has one. It is never printed here; `agent-gateway token` shows it.
ensure_api_token() {
  if [ -n "$(tool config-get apiToken)" ]; then
    done_ok "worker API token set (show it: $CLI_COMMAND token)"
    return
  fi
  set_secret apiToken "$(node -e 'process.stdout.write(require("node:crypto").randomBytes(24).toString("base64url"))')"
  say "           show it with: $CLI_COMMAND token   (rotate: $CLI_COMMAND token --rotate)"
}

# No service manager: the worker and a tripwire loop run under nohup, restarted on failure by
# keep-running.sh, but nothing brings them back after a reboot. Said out loud.
# `agent-gateway service` runs it (its own process group under keep-running.sh, the pid in
# <home>/run/<name>.pid); one already running is restarted when this run changed config.json.
start_background() {
  local name="$1" pidfile="$GW_HOME/run/$1.pid" said
  make_dir "$GW_HOME/run"
  make_dir "$GW_HOME/logs"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    if [ "$RESTART_NEEDED" = 1 ]; then
      said="$(cli service restart "$name")" || die "could not restart $name: $said"
      did "$said: config or build changed"
    else
      done_ok "$name running (pid $(cat "$pidfile"), fallback)"
    fi
    return
  fi
  said="$(cli service start "$name")" || die "could not start $name: $said"
  manifest_put process "$pidfile"
  did "$said"
}

services_fallback() {
  local why="no systemd user session here"
  [ -n "${AGENT_GATEWAY_SERVICES:-}" ] && why="AGENT_GATEWAY_SERVICES=fallback"
  warn "$why: the worker runs under nohup (restarted on failure, not after a reboot; re-run setup after one)"
  start_background worker
  start_background tripwire
  [ "$TIER" -ge 4 ] && return
  local result
  result="$("$REPO/scripts/central-session.sh" ensure)"
  manifest_put tmux agent-gateway
  if [ "$result" = running ]; then done_ok "tmux session agent-gateway (central pi)"; else did "tmux session agent-gateway started: GATEWAY_ROLE=central pi (attach: tmux attach -t agent-gateway)"; fi
}

# ---------------------------------------------------------------- tiers

install_tier_1() {
  say "Tier 1: notification bridge"
  ensure_redis
  set_config role "$([ "$TIER" -ge 3 ] && echo satellite || echo central)"
  register_extension
  link_cli
}

install_tier_2() {
  say "Tier 2: always-on (worker, heartbeat, watchdog, central session)"
  [ "$TIER" -ge 4 ] || has tmux || die "tmux is needed for the central session: apt-get install -y tmux (or brew install tmux)"
  install_template "$REPO/HEARTBEAT.md" "$GW_HOME/HEARTBEAT.md" "heartbeat checklist $GW_HOME/HEARTBEAT.md"
  make_dir "$GW_HOME/logs"
  ensure_api_token
  # The worker is the heartbeat source: the central pi's watchdog arms before the first heartbeat.
  set_config watchdog.expectHeartbeats true
  SERVICE_PATH="$(dirname "$(command -v node)"):$(dirname "$(command -v pi)"):$(dirname "$(command -v tmux)"):/usr/local/bin:/usr/bin:/bin"
  local mode
  mode="$(service_mode)"
  state_set services "$mode"
  "services_$mode"
}

install_tier_3() {
  say "Tier 3: multi-session"
  done_ok "ordinary pi sessions are satellites (config.json role); the tmux session stays central"
}

# ---------------------------------------------------------------- tier 4: daemon and channels

# Asks on the terminal only (never the pipe, never with --yes) and prints the answer; empty when
# nobody can answer. Secrets ($2 = secret) are read without echo.
ask() {
  local answer=""
  [ "$ASSUME_YES" = 1 ] && return 0
  { : </dev/tty; } 2>/dev/null || return 0
  printf '%s' "$1" >/dev/tty
  if [ "${2:-}" = secret ]; then
    read -rs answer </dev/tty || answer=""
    printf '\n' >/dev/tty
  else
    read -r answer </dev/tty || answer=""
  fi
  printf '%s' "$answer"
}

# Stores a secret in config.json through stdin (never argv, never printed); the file becomes 0600.
set_secret() {
  local key="$1" value="$2" file="$GW_HOME/config.json" result
  result="$(printf '%s' "$value" | tool json-set-secret "$file" "$key")"
  config_written "$result" "$file" "$key" "config.json $key (secret, not shown; file user-only)" "config.json $key stored (secret, not shown; file mode 0600)"
}

configure_telegram() {
  local token="${TELEGRAM_BOT_TOKEN:-}" chats="${TELEGRAM_ALLOWED_CHATS:-}"
  if [ -z "$token" ] && [ -n "$(tool config-get telegram.botToken)" ]; then
    done_ok "Telegram bot token configured (not shown)"
  else
    [ -z "$token" ] && token="$(ask 'Telegram bot token from @BotFather (input hidden; Enter to skip Telegram): ' secret)"
    if [ -z "$token" ]; then
      warn "Telegram off: no bot token (set TELEGRAM_BOT_TOKEN or run setup.sh 4 on a terminal)"
      return
    fi
    [[ "$token" =~ ^[0-9]+:[A-Za-z0-9_-]{20,}$ ]] || die "that does not look like a bot token (digits:letters, from @BotFather); nothing stored" 2
    set_secret telegram.botToken "$token"
  fi
  if [ -z "$chats" ] && [ "$(tool config-get telegram.allowedChats)" = "[]" ]; then
    chats="$(ask 'Telegram user or chat ids allowed to talk to the agent, comma-separated (Enter: approve chats with pairing codes instead): ')"
  fi
  if [ -n "$chats" ]; then
    [[ "$chats" =~ ^-?[0-9]+(,-?[0-9]+)*$ ]] || die "allowed chats must be numeric ids separated by commas, e.g. 123456789,-1001234" 2
    set_config telegram.allowedChats "$chats"
  else
    done_ok "Telegram allowlist: $(tool config-get telegram.allowedChats) (others: agent-gateway pairing list|approve|deny)"
  fi
}

configure_websocket() {
  if [ -n "${GATEWAY_WS_TOKEN:-}" ]; then
    set_secret daemon.wsToken "$GATEWAY_WS_TOKEN"
  elif [ -n "$(tool config-get daemon.wsToken)" ]; then
    done_ok "WebSocket channel on (token in config.json daemon.wsToken)"
  elif confirm "Turn on the WebSocket channel (loopback port $(tool config-get daemon.port), token auth)?"; then
    set_secret daemon.wsToken "$(node -e 'process.stdout.write(require("node:crypto").randomBytes(24).toString("hex"))')"
    say "           the WebSocket token is in $GW_HOME/config.json (daemon.wsToken)"
  fi
}

# The tier-2 central pi (tmux, under launchd/systemd) holds the central session the daemon takes.
retire_tmux_central() {
  local label="dev.agent-gateway.central"
  if [ "$1" = launchd ] && launchctl print "gui/$(id -u)/$label" >/dev/null 2>&1; then
    launchctl bootout "gui/$(id -u)/$label" >/dev/null 2>&1 || true
    did "unloaded LaunchAgent $label (the daemon is the central session now)"
  elif [ "$1" = systemd ] && systemctl --user is-enabled --quiet agent-gateway-central.service 2>/dev/null; then
    systemctl --user disable --now --quiet agent-gateway-central.service
    did "disabled agent-gateway-central.service (the daemon is the central session now)"
  fi
  if has tmux && tmux has-session -t "=agent-gateway" 2>/dev/null; then
    confirm "Stop the tier-2 central pi in tmux session \"agent-gateway\"? The daemon replaces it." ||
      die "the daemon cannot start while another central session runs: stop it (tmux kill-session -t agent-gateway) and run setup.sh 4 again"
    "$REPO/scripts/central-session.sh" stop >/dev/null
    did "stopped the tmux central session agent-gateway"
  fi
}

# Installs and (re)starts the daemon service; $2 = 1 restarts it because its settings changed.
daemon_service() {
  local mode="$1" restart="$2" label="dev.agent-gateway.daemon" unit="agent-gateway-daemon.service" pidfile="$GW_HOME/run/daemon.pid"
  case "$mode" in
    launchd)
      local plist="$HOME/Library/LaunchAgents/$label.plist" domain
      domain="gui/$(id -u)"
      if render_service "$REPO/launchagents/$label.plist" "$plist" || [ "$restart" = 1 ] || ! launchctl print "$domain/$label" >/dev/null 2>&1; then
        launchctl bootout "$domain/$label" >/dev/null 2>&1 || true
        launchctl bootstrap "$domain" "$plist" || die "launchctl bootstrap $domain $plist failed"
        manifest_put launchagent "$label" "$plist"
        did "LaunchAgent $label loaded"
      else
        done_ok "LaunchAgent $label loaded"
      fi
      ;;
    systemd)
      if render_service "$REPO/launchagents/systemd/$unit" "$HOME/.config/systemd/user/$unit"; then
        systemctl --user daemon-reload
        restart=1
      fi
      manifest_put systemd "$unit"
      if [ "$restart" = 0 ] && systemctl --user is-active --quiet "$unit"; then
        done_ok "systemd user unit $unit running"
      else
        systemctl --user enable --quiet "$unit"
        systemctl --user restart "$unit" || die "systemctl --user restart $unit failed: see journalctl --user -u $unit"
        did "systemd user unit $unit enabled and (re)started"
      fi
      ;;
    fallback)
      if [ "$restart" = 1 ] && [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        kill -TERM -- "-$(cat "$pidfile")" 2>/dev/null || kill -TERM "$(cat "$pidfile")"
        while kill -0 "$(cat "$pidfile")" 2>/dev/null; do sleep 1; done
      fi
      start_background daemon
      ;;
  esac
}

install_tier_4() {
  say "Tier 4: external channels (the daemon as the central session, Telegram, WebSocket)"
  local before="${#CHANGES[@]}" mode
  configure_telegram
  configure_websocket
  mode="$(state_get services || true)"
  [ -n "$mode" ] || mode="$(service_mode)"
  retire_tmux_central "$mode"
  daemon_service "$mode" "$([ "${#CHANGES[@]}" -gt "$before" ] && echo 1 || echo 0)"
  say "           talk to it: message your bot on Telegram; logs in $GW_HOME/logs/daemon.log"
}

# ---------------------------------------------------------------- uninstall

uninstall_entry() {
  local kind="$1" path="$2" detail="${3:-}"
  case "$kind" in
    process)
      if [ -f "$path" ] && kill -0 "$(cat "$path")" 2>/dev/null; then
        kill -TERM -- "-$(cat "$path")" 2>/dev/null || kill -TERM "$(cat "$path")" 2>/dev/null || true
        say "  stopped   $(basename "$path" .pid) (pid $(cat "$path"))"
      fi
      rm -f "$path"
      ;;
    tmux)
      if tmux has-session -t "=$path" 2>/dev/null; then tmux kill-session -t "=$path"; say "  stopped   tmux session $path"; fi
      ;;
    systemd)
      systemctl --user disable --now "$path" >/dev/null 2>&1 || true
      say "  disabled  $path"
      ;;
    launchagent)
      launchctl bootout "gui/$(id -u)/$path" >/dev/null 2>&1 || true
      say "  unloaded  $path"
      ;;
    file)
      if [ ! -f "$path" ]; then :
      elif [ "$(file_sha "$path")" = "$detail" ]; then rm -f "$path"; say "  removed   $path"
      else say "  kept      $path (edited since setup wrote it)"; fi
      ;;
    profile-line)
      if [ -f "$path" ] && grep -Fxq -- "$detail" "$path"; then
        grep -Fxv -- "$detail" "$path" >"$path.agent-gateway.tmp" || true
        cat "$path.agent-gateway.tmp" >"$path" && rm -f "$path.agent-gateway.tmp"
        say "  removed   the PATH line from $path"
      fi
      ;;
    profile-created)
      if [ -f "$path" ] && ! grep -q '[^[:space:]]' "$path"; then rm -f "$path"; say "  removed   $path"; fi
      ;;
    build | code-cache)
      rm -rf "$path"
      say "  removed   $path"
      ;;
    link)
      if [ -L "$path" ] && [ "$(readlink "$path")" = "$detail" ]; then rm -f "$path"; say "  removed   $path"; fi
      ;;
    json-key)
      [ "$(tool json-unset "$path" "$detail")" = removed ] && say "  removed   $detail from $path"
      ;;
    pi-package)
      [ "$(tool list-remove "$path" packages "$detail")" = removed ] && say "  removed   $detail from $path"
      ;;
    json-created)
      [ "$(tool remove-if-empty "$path")" = removed ] && say "  removed   $path"
      ;;
    node_modules)
      rm -rf "$path"
      say "  removed   $path"
      ;;
    clone)
      rm -rf "$path"
      say "  removed   $path"
      ;;
    package)
      if [ "$detail" = npm ]; then
        npm uninstall -g "$path" >/dev/null 2>&1 || warn "could not remove $path: npm uninstall -g $path"
      elif [ "$detail" = apt ]; then
        stop_redis_service
        as_root apt-get remove -y -qq "$path" >/dev/null || warn "could not remove $path: apt-get remove -y $path"
      else brew services stop "$path" >/dev/null 2>&1 || true; brew uninstall "$path" >/dev/null || warn "could not remove $path: brew uninstall $path"; fi
      say "  removed   package $path (its data directory is kept)"
      ;;
    redis-started)
      say "  left      Redis running at $path (setup started it; it may hold other data): redis-cli shutdown stops it"
      ;;
    dir)
      if rmdir "$path" 2>/dev/null; then say "  removed   $path"; elif [ -d "$path" ]; then say "  kept      $path (not empty)"; fi
      ;;
  esac
  return 0
}

uninstall() {
  [ -f "$MANIFEST" ] || { say "Nothing to uninstall: no $MANIFEST."; return; }
  REPO="$(state_get repo || true)"
  say "Removing what setup installed (from $MANIFEST):"
  local lines=() line i kind path detail
  while IFS= read -r line; do lines+=("$line"); done <"$MANIFEST"
  # Reverse order: services stop before the files they run, JSON edits before node_modules.
  for ((i = ${#lines[@]} - 1; i >= 0; i--)); do
    IFS=$'\t' read -r kind path detail <<<"${lines[$i]}"
    [ "$kind" = dir ] && continue
    uninstall_entry "$kind" "$path" "$detail"
  done
  if grep -q $'^systemd\t' "$MANIFEST"; then systemctl --user daemon-reload >/dev/null 2>&1 || true; fi
  rm -f "$MANIFEST" "$STATE"
  # Directories last, deepest first, and only when empty (logs and data stay).
  for ((i = ${#lines[@]} - 1; i >= 0; i--)); do
    IFS=$'\t' read -r kind path detail <<<"${lines[$i]}"
    [ "$kind" = dir ] && uninstall_entry dir "$path"
  done
  say "Uninstalled."
}

# ---------------------------------------------------------------- main

main() {
  parse_args "$@"
  if [ "$UNINSTALL" = 1 ]; then
    uninstall
    return
  fi
  choose_tier
  say "agent-gateway setup, tier $TIER"
  check_node
  make_dir "$GW_HOME"
  check_pi
  locate_repo
  done_ok "project: $REPO"
  state_set repo "$REPO"
  install_dependencies
  ensure_build
  local t
  for ((t = 1; t <= TIER; t++)); do "install_tier_$t"; done
  state_set tier "$TIER"

  say ""
  if [ "${#CHANGES[@]}" -eq 0 ]; then
    say "Nothing changed: tier $TIER was already set up."
  else
    say "Installed (tier $TIER):"
    printf '  - %s\n' "${CHANGES[@]}"
  fi
  say "Logs: $GW_HOME/logs/   Manifest: $MANIFEST   Remove: setup.sh --uninstall"
  if [ -n "$PATH_EXPORT" ]; then
    say "This shell does not have the command on its PATH yet (new shells will): run"
    say "  $PATH_EXPORT"
  fi
  say "Verify: $CLI_COMMAND doctor"
}

main "$@"
