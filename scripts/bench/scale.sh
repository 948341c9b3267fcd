# The scale benchmark (issue 10), sourced by scripts/bench.sh for `scripts/bench.sh scale`: see the usage
# text there and docs/benchmarks.md. Uses the script's options and binaries ($hotline, $load, $seed).

# The requests, in one place (the list, dashboard and report endpoints are being built on other branches:
# adjust a path or a parameter name here). {member}, {search}, {from} and {to} are filled in below: the
# registry member with the most seeded tickets, a word in some summaries, and one year back to today (JST
# dates). The deep page is the first page's URL: hotline-load follows the cursor (a `Link: <…>; rel="next"`
# header, or a `next_cursor`/`next` field, top level or under `page`; a bare cursor goes back in the
# `scale_cursor_param` parameter) for 10,000 rows and measures the page it reaches.
scale_paths=(
    "first-page=/v1/tickets?limit=50"
    "deep-page=/v1/tickets?limit=50"
    "filtered=/v1/tickets?prefecture=13&status=new,triaged,in_progress,escalated&overdue=true"
    "search=/v1/tickets?q={search}"
    "history=/v1/tickets?member_number={member}"
    "dashboard=/v1/dashboard"
    "report=/v1/reports/summary?from={from}&to={to}"
)
scale_cursor_param=cursor
# Asked with `Accept: text/csv` and no filter: every ticket.
scale_export_path=/v1/tickets

case "$concurrency" in *,*)
    log "scale runs at one concurrency (--concurrency N)"
    exit 2
    ;;
esac
data_dir="${data_dir:-${target_dir}/bench-scale}"
server_pid=""
scale_dir=""
reported=0
cleanup_scale() {
    local status=$?
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [ "$status" -ne 0 ] && [ "$reported" = 0 ] && [ -n "$scale_dir" ]; then
        for file in cli.log server.log; do
            if [ -s "$scale_dir/$file" ]; then
                log "failed (status ${status}); last lines of ${file}:"
                tail -n 20 "$scale_dir/$file" >&2 || true
            fi
        done
    fi
}
trap cleanup_scale EXIT

if [ -n "$pg_url" ]; then
    backend_label=PostgreSQL
    scale_dir="${data_dir}/postgres-${tickets}"
    scale_schema="bench_scale_${tickets}"
    case "$pg_url" in *\?*) sep='&' ;; *) sep='?' ;; esac
    database_url="${pg_url}${sep}options=-c%20search_path%3D${scale_schema}"
else
    backend_label=SQLite
    scale_dir="${data_dir}/sqlite-${tickets}"
    database_url="sqlite://${scale_dir}/hotline.db"
fi
if [ "$fresh" = 1 ] || [ ! -s "$scale_dir/seed.env" ]; then
    log "a fresh database (${scale_dir})"
    case "$scale_dir" in */bench-scale/* | */sqlite-* | */postgres-*) rm -rf "$scale_dir" ;; esac
    if [ -n "$pg_url" ]; then
        psql -q -v ON_ERROR_STOP=1 "$pg_url" -c "DROP SCHEMA IF EXISTS ${scale_schema} CASCADE" \
            -c "CREATE SCHEMA ${scale_schema}" >/dev/null
    fi
else
    log "reusing the seeded database of ${scale_dir} (--fresh to seed again)"
fi
mkdir -p "$scale_dir/config"
port="$("$load" free-port)"
base_url="http://127.0.0.1:${port}"
cat >"$scale_dir/config/default.toml" <<TOML
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
dir = "${scale_dir}/mail"

[log]
filter = "warn"
TOML

if [ ! -s "$scale_dir/seed.env" ]; then
    log "generating a roster of ${members} members and importing it (${backend_label})"
    "$load" roster --members "$members" --out "$scale_dir/roster.csv" 2>>"$scale_dir/cli.log"
    (umask 077 && "$hotline" --config "$scale_dir/config" token create --name bench-scale --role supervisor \
        >"$scale_dir/token" 2>>"$scale_dir/cli.log")
    "$hotline" --config "$scale_dir/config" registry import "$scale_dir/roster.csv" >/dev/null 2>>"$scale_dir/cli.log"
    log "seeding ${tickets} tickets (hotline-seed)"
    /usr/bin/time -f '%e %M' -o "$scale_dir/seed.time" \
        "$seed" --database-url "$database_url" --tickets "$tickets" >"$scale_dir/seed.out"
    read -r seed_wall seed_kib <"$scale_dir/seed.time"
    {
        cat "$scale_dir/seed.out"
        echo "wall_seconds=${seed_wall}"
        echo "peak_kib=${seed_kib}"
        echo "seeded_at=$(date -u '+%Y-%m-%d %H:%M UTC')"
    } >"$scale_dir/seed.env.tmp"
    mv "$scale_dir/seed.env.tmp" "$scale_dir/seed.env"
fi
token="$(tail -n 1 "$scale_dir/token")"
seeded() { sed -n "s/^$1=//p" "$scale_dir/seed.env"; }
log "seeded: $(seeded tickets) tickets in $(seeded wall_seconds) s ($(seeded seeded_at))"
scale_status=0
if [ "$seed_only" = 1 ]; then
    return 0
fi

log "starting the server on ${base_url}"
"$hotline" --config "$scale_dir/config" serve 2>"$scale_dir/server.log" &
server_pid=$!
"$load" wait-ready --base-url "$base_url" --timeout 600
sleep 2 # idle
from="$(TZ=Asia/Tokyo date -d '1 year ago' +%F)"
to="$(TZ=Asia/Tokyo date +%F)"
path_args=()
for entry in "${scale_paths[@]}"; do
    entry="${entry//\{member\}/$(seeded history_member)}"
    entry="${entry//\{search\}/$(seeded search)}"
    entry="${entry//\{from\}/$from}"
    entry="${entry//\{to\}/$to}"
    path_args+=(--path "$entry")
done
HOTLINE_BENCH_TOKEN="$token" "$load" scale --base-url "$base_url" --server-pid "$server_pid" \
    --backend "$backend_label" --duration "$duration" --warmup "$warmup" --concurrency "$concurrency" \
    --tickets "$(seeded tickets)" --samples "$(seeded samples)" --cursor-param "$scale_cursor_param" \
    --export-path "$scale_export_path" "${path_args[@]}" >"$scale_dir/report.md" || scale_status=$?
log "stopping the server (SIGTERM)"
kill -TERM "$server_pid"
wait "$server_pid" || true
server_pid=""

if [ -n "$pg_url" ]; then
    db_size="$(psql -tA "$pg_url" -c "SELECT pg_size_pretty(sum(pg_total_relation_size(format('%I.%I', schemaname, tablename)::regclass))) FROM pg_tables WHERE schemaname = '${scale_schema}'") (tables and indexes of schema ${scale_schema})"
else
    db_size="$(du -ch "$scale_dir"/hotline.db* | tail -n 1 | cut -f1) (SQLite file with WAL)"
fi
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git status --porcelain 2>/dev/null)" ]; then commit="${commit} (with uncommitted changes)"; fi
listing() { sed -n "s/^$1_\([a-z_]*\)=\([0-9]*\)$/\1 \2/p" "$scale_dir/seed.env" | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 }'; }
cat <<REPORT
### ${backend_label} scale run of $(date -u '+%Y-%m-%d %H:%M UTC')

- Command: \`scripts/bench.sh scale${pg_url:+ --postgres <url>} --tickets ${tickets} --duration ${duration} --warmup ${warmup} --concurrency ${concurrency}\`
- Commit: ${commit}; release build; server settings as \`config/default.toml\` except listen address, database, mail directory, log filter \`warn\` and a 00:00–23:59 window.
- Machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, $(uname -sr); load average before the run: ${load_before}.
- Seeded $(seeded seeded_at) by \`hotline-seed\`: $(seeded tickets) tickets in $(seeded wall_seconds) s (rows in $(seeded load_seconds) s, then ANALYZE), peak RSS $(($(seeded peak_kib) / 1024)) MiB. Rows: $(listing rows). Ticket statuses: $(listing status). History caller: $(seeded history_tickets) tickets; search word: $(seeded search).
- Database: ${db_size}.

REPORT
cat "$scale_dir/report.md"
reported=1 # a missed target is in the report, not in the logs
