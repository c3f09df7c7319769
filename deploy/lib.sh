# shellcheck shell=bash
# Shared by the deploy/test-* scripts (sourced, not run): building, temp dirs, waiting, checks.
# Every wait is bounded; every process started is registered with `track` and stopped on exit.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RELEASE="$ROOT/target/release"
PASSWORD='correct horse battery staple'
PASSED=0
FAILED=0
TRACKED_PIDS=()
EXIT_COMMANDS=()

WORK="$(mktemp -d "${TMPDIR:-/tmp}/jwt-deploy.XXXXXX")"
chmod 755 "$WORK"

# Stops what the script started (TERM, then KILL after 10 s), then removes the temp dir.
cleanup() {
    local pid
    for pid in "${TRACKED_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${TRACKED_PIDS[@]}"; do
        for _ in $(seq 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    done
    local command
    for command in "${EXIT_COMMANDS[@]}"; do
        eval "$command" || true
    done
    if [[ -n "${KEEP_WORK:-}" ]]; then
        echo "kept $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

track() { TRACKED_PIDS+=("$1"); }

# on_exit COMMAND: run at exit, after the tracked processes have stopped.
on_exit() { EXIT_COMMANDS+=("$1"); }

# The exit status of a tracked process that stops by itself within 60 s (it must have been
# started by this shell).
wait_exit() {
    local pid="$1"
    for _ in $(seq 600); do
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid" && return 0 || return $?
        fi
        sleep 0.1
    done
    echo "process $pid did not exit" >&2
    return 124
}

log() { printf '== %s\n' "$*"; }

pass() { PASSED=$((PASSED + 1)); printf 'ok   %s\n' "$1"; }
fail() { FAILED=$((FAILED + 1)); printf 'FAIL %s\n' "$1"; [[ -n "${2:-}" ]] && printf '     %s\n' "$2"; return 0; }

# check NAME COMMAND...: runs COMMAND, counts it as passed or failed.
check() {
    local name="$1"
    shift
    local out
    if out="$("$@" 2>&1)"; then pass "$name"; else fail "$name" "$out"; fi
}

# The closing line CI reads, then the exit status.
finish() {
    local suite="$1"
    echo "$suite: $PASSED passed, $FAILED failed"
    [[ "$FAILED" -eq 0 ]]
}

# Release binaries: cargo rebuilds only what changed (a no-op when target/release is current).
# SKIP_BUILD=1 uses whatever is there.
build_release() {
    if [[ -n "${SKIP_BUILD:-}" && -x "$RELEASE/server" && -x "$RELEASE/manage" ]]; then
        return
    fi
    log "cargo build --release -p server --bins"
    (cd "$ROOT" && cargo build --quiet --release -p server --bins)
}

# A TCP port nothing listens on right now (the kernel's choice).
# The wildcard address, not 127.0.0.1: a port free on 127.0.0.1 may still be held on another
# loopback address (test-nginx's slowloris clients leave 1,500 of them on 127.0.0.6 and .7),
# and a server binding 0.0.0.0:PORT (the Procfile's web) then fails with EADDRINUSE.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("0.0.0.0", 0)); print(s.getsockname()[1])'
}

# wait_until DESCRIPTION COMMAND...: retries COMMAND every 0.1 s for up to 30 s.
wait_until() {
    local what="$1"
    shift
    for _ in $(seq 300); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    echo "timed out waiting for $what" >&2
    return 1
}

# The port in the server's "Listening at: http://127.0.0.1:PORT" line, once it is there.
listening_port() {
    local log_file="$1"
    wait_until "the server to listen" grep -q 'Listening at: http://' "$log_file"
    grep -o 'Listening at: http://[0-9.]*:[0-9]*' "$log_file" | head -n1 | grep -o '[0-9]*$'
}

# json FIELD: one string field of the JSON on stdin.
json() {
    python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

# The environment a test server runs with: a fresh SQLite database in $WORK.
test_env() {
    SECRET_KEY="deploy-test-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    export SECRET_KEY
    export DATABASE_URL="sqlite:///$WORK/db.sqlite3"
    export PASSWORDS__BCRYPT_ROUNDS=4
    # An empty settings file, so the repository's settings.toml and .env play no part.
    : >"$WORK/settings.toml"
    export SETTINGS_FILE="$WORK/settings.toml"
}

# Migrations and a user `alice` through the same commands an operator runs.
prepare_database() {
    "$RELEASE/manage" migrate --noinput >/dev/null
    printf '%s\n' "$PASSWORD" | "$RELEASE/manage" createuser alice --password-stdin >/dev/null
}
cd "$WORK" || exit 1
