#!/usr/bin/env bash
# Reproducible load benchmark of the hotline server (see docs/benchmarks.md).
#
# Builds the release binaries; on a fresh database in a temporary directory (SQLite, or a schema of its
# own on PostgreSQL) imports a generated roster of 82,700 members, gives one member 10,000 tickets in
# the last 7 days, measures the database's own rate (pgbench, or hotline-dbbench on SQLite) for the
# statements of one call and for a select by key, then starts the server and drives it with the
# hotline-load generator at 8 and 32 clients. Prints a Markdown report with each endpoint's ratio to
# its baseline and PASS/FAIL against the targets on stdout; progress goes to stderr. Loopback only.
#
#   scripts/bench.sh                                  # SQLite
#   scripts/bench.sh --postgres postgres://postgres@127.0.0.1:5432/test
#   HOTLINE_BENCH_DATABASE_URL=postgres://… scripts/bench.sh
#
# Options: --duration S (10), --warmup S (2), --concurrency LIST (8,32), --members N (82700),
# --history N (10000), --check (exit 1 when a target is missed). Respects CARGO_TARGET_DIR. Needs
# pgbench (Debian: postgresql-client / postgresql-contrib) for PostgreSQL.
#
# Scale benchmark (issue 10): `scripts/bench.sh scale [--postgres URL]` imports the roster, seeds a year of
# tickets (hotline-seed: 1,000,000 by default, with calls, triage, notes, referrals and audit events), starts
# the server and measures at 8 clients the first page, a page 10,000 rows deep by cursor, a filtered page,
# free-text search, a caller's history, the dashboard and the one-year summary report (p50/p99), then the
# CSV export of every ticket (time, rows, the server's peak RSS growth). Endpoints a build lacks are
# reported as not available. The seeded database is kept in --data-dir (SQLite file; PostgreSQL schema
# bench_scale_<N>) and reused by the next run; --fresh seeds again. Scale options: --tickets N (1000000),
# --members N, --data-dir DIR (<target dir>/bench-scale), --fresh, --seed-only, --duration, --warmup,
# --concurrency N (8). Paths: `scale_paths` in scripts/bench/scale.sh.
set -euo pipefail

usage() {
    sed -n '2,27p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

mode=load
if [ "${1:-}" = scale ] || [ "${1:-}" = --scale ]; then
    mode=scale
    shift
fi
duration=10
warmup=2
concurrency=8,32
members=82700
history=10000
tickets=1000000
data_dir=""
fresh=0
seed_only=0
check=()
pg_url="${HOTLINE_BENCH_DATABASE_URL:-}"
if [ "$mode" = scale ]; then concurrency=8; fi
while [ $# -gt 0 ]; do
    case "$1" in
        --tickets) tickets="${2:?--tickets needs a number}"; shift 2 ;;
        --data-dir) data_dir="${2:?--data-dir needs a directory}"; shift 2 ;;
        --fresh) fresh=1; shift ;;
        --seed-only) seed_only=1; shift ;;
        --postgres) pg_url="${2:?--postgres needs a URL}"; shift 2 ;;
        --duration) duration="${2:?--duration needs seconds}"; shift 2 ;;
        --warmup) warmup="${2:?--warmup needs seconds}"; shift 2 ;;
        --concurrency) concurrency="${2:?--concurrency needs a list, e.g. 8,32}"; shift 2 ;;
        --members) members="${2:?--members needs a number}"; shift 2 ;;
        --history) history="${2:?--history needs a number}"; shift 2 ;;
        --check) check=(--check); shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done

log() { printf 'bench: %s\n' "$*" >&2; }
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"

# The benchmark's own configuration decides: no environment layer, no HOTLINE__ overrides, no RUST_LOG.
unset HOTLINE_ENVIRONMENT HOTLINE_CONFIG_DIR RUST_LOG
while read -r name; do unset "$name"; done < <(compgen -e | grep '^HOTLINE__' || true)

target_dir="${CARGO_TARGET_DIR:-$root/target}"
log "building the release binaries (target dir ${target_dir})"
cargo build --release -p hotline-server >&2
cargo build --release -p hotline-tests --bin hotline-load --bin hotline-dbbench --bin hotline-seed >&2
hotline="${target_dir}/release/hotline"
load="${target_dir}/release/hotline-load"
dbbench="${target_dir}/release/hotline-dbbench"
seed="${target_dir}/release/hotline-seed"

if [ "$mode" = scale ]; then
    # shellcheck source=bench/scale.sh
    . "$root/scripts/bench/scale.sh"
    exit "$scale_status"
fi

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
    command -v pgbench >/dev/null || { log "pgbench is needed for PostgreSQL (Debian: postgresql-client)"; exit 2; }
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
log "generating a roster of ${members} members"
"$load" roster --members "$members" --out "$work/roster.csv" 2>>"$work/cli.log"
log "creating an operator token and importing the roster (${backend})"
token="$(cli token create --name bench --role operator 2>>"$work/cli.log")"
/usr/bin/time -f '%M %e' -o "$work/import.time" \
    "$hotline" --config "$work/config" registry import "$work/roster.csv" >"$work/import.json" 2>>"$work/cli.log"
read -r import_kib import_seconds <"$work/import.time"

# Three members of the roster: A calls in the `calls` scenario (no ticket before), B already has
# ${history} tickets in the last 7 days (`calls-history`), C is the caller of the replayed statements.
mapfile -t callers < <(tail -n +2 "$work/roster.csv" | cut -d, -f1 | awk '!seen[$0]++' | head -n 3)
log "giving one member ${history} tickets in the last 7 days"
"$dbbench" seed-history --database-url "$database_url" --member-number "${callers[1]}" --tickets "$history" \
    2>>"$work/cli.log"
"$dbbench" caller --database-url "$database_url" --member-number "${callers[1]}" >"$work/history.env"
related="$(sed -n 's/^related=//p' "$work/history.env")"

# The database's own rate, right before the service, on the same database.
baseline_call=()
baseline_key=()
IFS=',' read -r -a levels <<<"$concurrency"
pg_rate() { sed -n 's/^tps = \([0-9.]*\).*/\1/p'; }
for clients in "${levels[@]}"; do
    log "baseline: the statements of one call, ${clients} clients, ${duration} s"
    if [ "$backend" = postgres ]; then
        "$dbbench" caller --database-url "$database_url" --member-number "${callers[2]}" >"$work/replay.env"
        pgargs=(-D "member_number=${callers[2]}" -D "related=${related}")
        while IFS='=' read -r name value; do
            case "$name" in member_id | institution_id | institution_match | prefecture | token_id | year)
                pgargs+=(-D "${name}=${value}") ;;
            esac
        done <"$work/replay.env"
        rate="$(pgbench -n -M prepared -c "$clients" -j 2 -T "$duration" -f scripts/bench/call-transaction.sql \
            "${pgargs[@]}" "$database_url" 2>>"$work/cli.log" | pg_rate)"
    else
        rate="$("$dbbench" replay --database-url "$database_url" --workload call --member-number "${callers[2]}" \
            --clients "$clients" --duration "$duration" 2>>"$work/cli.log")"
    fi
    baseline_call+=("${clients}=${rate}")
done
"$dbbench" caller --database-url "$database_url" --member-number "${callers[2]}" >"$work/replay.env"
max_seq="$(sed -n 's/^max_seq=//p' "$work/replay.env")"
year="$(sed -n 's/^year=//p' "$work/replay.env")"
for clients in "${levels[@]}"; do
    log "baseline: select by key, ${clients} clients, ${duration} s"
    if [ "$backend" = postgres ]; then
        rate="$(pgbench -n -M prepared -c "$clients" -j 2 -T "$duration" -f scripts/bench/select-by-key.sql \
            -D "year=${year}" -D "max_seq=${max_seq}" "$database_url" 2>>"$work/cli.log" | pg_rate)"
    else
        rate="$("$dbbench" replay --database-url "$database_url" --workload select-by-key \
            --member-number "${callers[2]}" --clients "$clients" --duration "$duration" 2>>"$work/cli.log")"
    fi
    baseline_key+=("${clients}=${rate}")
done
join() { local IFS=','; echo "$*"; }

log "starting the server on ${base_url}"
"$hotline" --config "$work/config" serve 2>"$work/server.log" &
server_pid=$!
"$load" wait-ready --base-url "$base_url" --timeout 60
sleep 2 # idle: what the server holds before any load

load_status=0
HOTLINE_BENCH_TOKEN="$token" "$load" run \
    --base-url "$base_url" --backend "$backend" --server-pid "$server_pid" --registry "$work/roster.csv" \
    --caller "${callers[0]}" --history-caller "${callers[1]}" --history-tickets "$history" \
    --baseline-call "$(join "${baseline_call[@]}")" --baseline-key "$(join "${baseline_key[@]}")" \
    --import-peak-kib "$import_kib" --import-seconds "$import_seconds" --import-members "$members" \
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

- Command: \`scripts/bench.sh${pg_url:+ --postgres <url>} --duration ${duration} --warmup ${warmup} --concurrency ${concurrency} --members ${members} --history ${history}${check[*]:+ ${check[*]}}\`
- Commit: ${commit}; release build; server settings as \`config/default.toml\` (workers = one per core, pool of 8) except listen address, database, mail directory, log filter \`warn\` and a 00:00–23:59 window.
- Machine: $(nproc) cores (${cpu}), ${ram} RAM, $(uname -sr); load average before the run: ${load_before}.
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
