#!/usr/bin/env bash
# Reproducible load benchmark of the hotline server (see docs/benchmarks.md).
#
# Builds the release binary, starts it on a fresh database in a temporary directory (SQLite, or a schema
# of its own on PostgreSQL), imports docs/sample-registry.csv, drives it with the hotline-load generator
# (tests/src/bin/hotline-load.rs) and prints a Markdown report with PASS/FAIL against the targets on
# stdout. Progress goes to stderr. Only loopback addresses are used.
#
#   scripts/bench.sh                                  # SQLite
#   scripts/bench.sh --postgres postgres://postgres@127.0.0.1:5432/test
#   HOTLINE_BENCH_DATABASE_URL=postgres://… scripts/bench.sh
#
# Options: --duration S (20), --warmup S (2), --concurrency C (16), --check (exit 1 when a target is
# missed). Respects CARGO_TARGET_DIR.
set -euo pipefail

usage() {
    sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

duration=20
warmup=2
concurrency=16
check=()
pg_url="${HOTLINE_BENCH_DATABASE_URL:-}"
while [ $# -gt 0 ]; do
    case "$1" in
        --postgres) pg_url="${2:?--postgres needs a URL}"; shift 2 ;;
        --duration) duration="${2:?--duration needs seconds}"; shift 2 ;;
        --warmup) warmup="${2:?--warmup needs seconds}"; shift 2 ;;
        --concurrency) concurrency="${2:?--concurrency needs a number}"; shift 2 ;;
        --check) check=(--check); shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done

log() { printf 'bench: %s\n' "$*" >&2; }

# The benchmark's own configuration decides: no environment layer, no HOTLINE__ overrides, no RUST_LOG.
unset HOTLINE_ENVIRONMENT HOTLINE_CONFIG_DIR RUST_LOG
while read -r name; do unset "$name"; done < <(compgen -e | grep '^HOTLINE__' || true)

target_dir="${CARGO_TARGET_DIR:-$root/target}"
log "building the release binaries (target dir ${target_dir})"
cargo build --release -p hotline-server >&2
cargo build --release -p hotline-tests --bin hotline-load >&2
hotline="${target_dir}/release/hotline"
load="${target_dir}/release/hotline-load"

work="$(mktemp -d "${TMPDIR:-/tmp}/hotline-bench.XXXXXX")"
server_pid=""
schema=""
cleanup() {
    local status=$?
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [ -n "$schema" ]; then
        psql -q "$pg_url" -c "DROP SCHEMA IF EXISTS ${schema} CASCADE" >/dev/null 2>&1 \
            || log "could not drop schema ${schema}; drop it by hand"
    fi
    if [ "$status" -ne 0 ]; then
        for file in cli.log server.log; do
            if [ -s "$work/$file" ]; then
                log "failed (status ${status}); last lines of ${file}:"
                tail -n 20 "$work/$file" >&2 || true
            fi
        done
    fi
    rm -rf "$work"
}
trap cleanup EXIT

if [ -n "$pg_url" ]; then
    backend=postgres
    backend_label=PostgreSQL
    schema="bench_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
    log "creating schema ${schema}"
    psql -q -v ON_ERROR_STOP=1 "$pg_url" -c "CREATE SCHEMA ${schema}" >/dev/null
    # libpq: options=-c search_path=<schema>, percent-encoded (as the test suite's per-test schemas).
    case "$pg_url" in *\?*) sep='&' ;; *) sep='?' ;; esac
    database_url="${pg_url}${sep}options=-c%20search_path%3D${schema}"
else
    backend=sqlite
    backend_label=SQLite
    database_url="sqlite://${work}/hotline.db"
fi

port="$("$load" free-port)"
base_url="http://127.0.0.1:${port}"
mkdir -p "$work/config"
# Only what the benchmark needs differs from config/default.toml. The window covers the whole day so the
# benchmark runs at any hour: a window is half-open and HH:MM cannot say 24:00, so 00:00–23:59 (the load
# generator dates calls in the last minute 23:58:59).
cat >"$work/config/default.toml" <<EOF
[server]
listen = "127.0.0.1:${port}"

[database]
url = "${database_url}"

[[service.windows]]
open = "00:00"
close = "23:59"

[mail]
transport = "file"

[mail.file]
dir = "${work}/mail"

[log]
filter = "warn"
EOF

cli() { "$hotline" --config "$work/config" "$@"; }
log "creating an operator token and importing docs/sample-registry.csv (${backend})"
token="$(cli token create --name bench --role operator 2>>"$work/cli.log")"
cli registry import docs/sample-registry.csv >"$work/import.json" 2>>"$work/cli.log"

log "starting the server on ${base_url}"
"$hotline" --config "$work/config" serve 2>"$work/server.log" &
server_pid=$!
"$load" wait-ready --base-url "$base_url" --timeout 60

load_status=0
HOTLINE_BENCH_TOKEN="$token" "$load" run \
    --base-url "$base_url" --backend "$backend" --server-pid "$server_pid" \
    --duration "$duration" --warmup "$warmup" --concurrency "$concurrency" "${check[@]}" \
    >"$work/report.md" || load_status=$?

log "stopping the server (SIGTERM)"
stop_started=$(date +%s%N)
kill -TERM "$server_pid"
server_status=0
wait "$server_pid" || server_status=$?
stop_ms=$(( ($(date +%s%N) - stop_started) / 1000000 ))
server_pid=""

if [ "$backend" = sqlite ]; then
    db_size="$(du -ch "$work"/hotline.db* | tail -n 1 | cut -f1) (SQLite file with WAL)"
else
    db_size="$(psql -tA "$pg_url" -c "SELECT pg_size_pretty(sum(pg_total_relation_size(format('%I.%I', schemaname, tablename)::regclass))) FROM pg_tables WHERE schemaname = '${schema}'") (tables and indexes of the schema)"
fi
# What the server logged at WARN or above (the log never holds personal data): a count, and the first
# distinct messages without their timestamps.
problem_lines="$(sed 's/\x1b\[[0-9;]*m//g' "$work/server.log" | grep -E '^[^ ]+ +(WARN|ERROR) ' || true)"
log_problems="$(printf '%s' "$problem_lines" | grep -c . || true)"
distinct_problems="$(printf '%s\n' "$problem_lines" | sed -E 's/^[^ ]+ +//' | cut -c1-200 | awk 'NF && !seen[$0]++' | head -n 5)"

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
ram="$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git status --porcelain 2>/dev/null)" ]; then commit="${commit} (with uncommitted changes)"; fi

cat <<EOF
### ${backend_label} run of $(date -u '+%Y-%m-%d %H:%M UTC')

- Command: \`scripts/bench.sh${pg_url:+ --postgres <url>} --duration ${duration} --warmup ${warmup} --concurrency ${concurrency}${check[*]:+ ${check[*]}}\`
- Commit: ${commit}; release build; server settings as \`config/default.toml\` (workers = one per core, pool of 8) except listen address, database, mail directory, log filter \`warn\` and a 00:00–23:59 window.
- Machine: $(nproc) cores (${cpu}), ${ram} RAM, $(uname -sr).
- Database after the run: ${db_size}.
- Server: ${log_problems} WARN/ERROR log lines; stopped by SIGTERM in ${stop_ms} ms with exit status ${server_status}.
EOF
if [ -n "$distinct_problems" ]; then
    printf '%s\n' "$distinct_problems" | sed 's/^/  - `/; s/$/`/'
fi
echo
cat "$work/report.md"

if [ "$server_status" -ne 0 ]; then
    log "the server exited with status ${server_status}"
    exit 1
fi
exit "$load_status"
