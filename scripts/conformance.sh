#!/usr/bin/env bash
# Conformance run: schemathesis (pinned, from PyPI) generates requests from the OpenAPI document that a
# real `hotline serve` serves at GET /openapi.json, and fails on any 5xx, any response that breaks its
# schema, and any status code, content type or header the document does not declare.
#
# For each backend (a fresh SQLite file, then a fresh PostgreSQL database) the script:
#   1. creates an admin, a supervisor, an operator and a spare token with `hotline token create`,
#      imports docs/sample-registry.csv with `hotline registry import`;
#   2. starts `hotline serve` on 127.0.0.1 (a free port), with the service window set to the whole day
#      so that results do not depend on the time of the run, and logs a call over HTTP (a ticket);
#   3. runs schemathesis with scripts/conformance/schemathesis.toml (each operation with a token of the
#      role it needs, ticket routes on the seeded ticket), a fixed seed and deterministic generation;
#   4. fails unless schemathesis passed and the server logged at least MIN_REQUESTS requests.
#
# Usage: scripts/conformance.sh [sqlite] [postgres]     (both by default)
# Environment:
#   HOTLINE_TEST_DATABASE_URL   a PostgreSQL database to connect to for CREATE DATABASE
#                               (default postgres://postgres@127.0.0.1:5432/test)
#   CONFORMANCE_SEED            schemathesis seed (default 20261120)
#   CONFORMANCE_MAX_EXAMPLES    test cases per operation and phase (default 25)
#   CONFORMANCE_MIN_REQUESTS    requests each backend must have served (default 1000)
#   CONFORMANCE_TIMEOUT         seconds one backend's schemathesis run may take (default 420)
#   CONFORMANCE_VENV            where schemathesis is installed (default ~/.cache/hotline/schemathesis-<version>)
# Reports (JUnit, the server log) go to target/conformance/<backend>/.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"

SCHEMATHESIS_VERSION="4.32.5"
SEED="${CONFORMANCE_SEED:-20261120}"
MAX_EXAMPLES="${CONFORMANCE_MAX_EXAMPLES:-25}"
MIN_REQUESTS="${CONFORMANCE_MIN_REQUESTS:-1000}"
RUN_TIMEOUT="${CONFORMANCE_TIMEOUT:-420}"
VENV="${CONFORMANCE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/hotline/schemathesis-${SCHEMATHESIS_VERSION}}"
PG_BASE_URL="${HOTLINE_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
CONFIG="${ROOT}/scripts/conformance/schemathesis.toml"
CHECKS="${CONFORMANCE_CHECKS:-all}"
# positive_data_acceptance needs every rule of the API in the document (phone numbers, registry numbers,
# the partner rules…); the generated document is to grow into it. Every other check must pass.
EXCLUDED_CHECKS="${CONFORMANCE_EXCLUDED_CHECKS-positive_data_acceptance}"
BACKENDS=("$@")
if [ "${#BACKENDS[@]}" -eq 0 ]; then
    BACKENDS=(sqlite postgres)
fi

say() { printf '\n--> %s\n' "$*"; }

# schemathesis in a virtualenv of its own, kept between runs (a rerun only checks the version).
install_schemathesis() {
    if [ -x "${VENV}/bin/schemathesis" ] \
        && [ "$("${VENV}/bin/schemathesis" --version 2>/dev/null)" = "schemathesis, version ${SCHEMATHESIS_VERSION}" ]; then
        return
    fi
    say "installing schemathesis ${SCHEMATHESIS_VERSION} into ${VENV}"
    rm -rf "$VENV"
    mkdir -p "$(dirname "$VENV")"
    python3 -m venv "$VENV"
    "${VENV}/bin/pip" install --quiet --disable-pip-version-check "schemathesis==${SCHEMATHESIS_VERSION}"
    "${VENV}/bin/schemathesis" --version
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Reads one member of a JSON document on stdin: json_member ticket id.
json_member() {
    python3 -c 'import json, sys
value = json.load(sys.stdin)
for key in sys.argv[1:]:
    value = value[key]
print(value)' "$@"
}

SERVER_PID=""
PG_DATABASE=""
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
    if [ -n "$PG_DATABASE" ]; then
        psql "$PG_BASE_URL" -qtAc "DROP DATABASE IF EXISTS ${PG_DATABASE} WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    PG_DATABASE=""
}
trap cleanup EXIT

run_backend() {
    local backend="$1"
    local work="${ROOT}/target/conformance/${backend}"
    rm -rf "$work"
    mkdir -p "$work/config" "$work/mail"
    local database_url
    case "$backend" in
        sqlite) database_url="sqlite://${work}/hotline.db" ;;
        postgres)
            PG_DATABASE="hotline_conformance_$$"
            psql "$PG_BASE_URL" -qtAc "DROP DATABASE IF EXISTS ${PG_DATABASE} WITH (FORCE)" >/dev/null
            psql "$PG_BASE_URL" -qtAc "CREATE DATABASE ${PG_DATABASE}" >/dev/null
            database_url="${PG_BASE_URL%/*}/${PG_DATABASE}"
            ;;
        *) echo "unknown backend ${backend}: use sqlite or postgres" >&2; return 2 ;;
    esac
    # Lists cannot come from the environment: the whole-day window is an environment file.
    cat >"$work/config/conformance.toml" <<'TOML'
[[service.windows]]
open = "00:00"
close = "23:59"
TOML
    local port
    port="$(free_port)"
    export HOTLINE_CONFIG_DIR="$work/config" HOTLINE_ENVIRONMENT=conformance
    export HOTLINE__DATABASE__URL="$database_url" HOTLINE__SERVER__LISTEN="127.0.0.1:${port}"
    export HOTLINE__SERVER__WORKERS=2 HOTLINE__MAIL__FILE__DIR="$work/mail"
    export HOTLINE__LOG__FORMAT=json RUST_LOG=info
    # schemathesis sends missing and wrong tokens on purpose, thousands of them from one address; the
    # throttle of failed authentications (tested in tests/e2e/security.rs) would otherwise answer every
    # later unauthenticated probe 429 instead of the 401 it checks for.
    export HOTLINE__API__AUTH_FAILURES_PER_MINUTE=100000
    local hotline="${ROOT}/target/debug/hotline"

    say "${backend}: tokens and the sample registry"
    local role
    for role in admin supervisor operator; do
        local secret
        secret="$("$hotline" token create --name "conformance ${role}" --role "$role" 2>/dev/null)"
        export "HOTLINE_CONFORMANCE_${role^^}_TOKEN=${secret}"
    done
    local created
    created="$("$hotline" token create --name "conformance spare" --role operator 2>&1 >/dev/null)"
    HOTLINE_CONFORMANCE_SPARE_TOKEN_ID="$(sed -E 's/.*\(([0-9a-f-]{36})\).*/\1/' <<<"$created")"
    export HOTLINE_CONFORMANCE_SPARE_TOKEN_ID
    "$hotline" registry import docs/sample-registry.csv >/dev/null

    say "${backend}: hotline serve on 127.0.0.1:${port}"
    "$hotline" serve >"$work/server.log" 2>&1 &
    SERVER_PID=$!
    local base="http://127.0.0.1:${port}"
    for _ in $(seq 1 60); do
        if curl -fsS "${base}/readyz" >/dev/null 2>&1; then
            break
        fi
        sleep 0.5
    done
    curl -fsS "${base}/readyz" >/dev/null

    # The seeded ticket: a verified caller of the sample registry, logged now.
    local call
    call="$(curl -fsS -X POST "${base}/v1/calls" \
        -H "Authorization: Bearer ${HOTLINE_CONFORMANCE_OPERATOR_TOKEN}" \
        -H 'Content-Type: application/json' \
        --data-binary '{
            "caller_name": "佐藤 健一", "caller_role": "member", "callback_phone": "03-3812-0471",
            "institution": { "name": "本郷さくらクリニック", "address": "東京都文京区本郷3丁目14番5号", "prefecture": "13" },
            "identifier": { "kind": "registration_number", "value": "412345" },
            "summary": "電子カルテが起動しない"
        }')"
    HOTLINE_CONFORMANCE_TICKET_ID="$(json_member ticket id <<<"$call")"
    export HOTLINE_CONFORMANCE_TICKET_ID
    echo "seeded ticket ${HOTLINE_CONFORMANCE_TICKET_ID}"

    say "${backend}: schemathesis (seed ${SEED}, ${MAX_EXAMPLES} examples per operation)"
    local exclude=()
    if [ -n "$EXCLUDED_CHECKS" ]; then
        exclude=(--exclude-checks "$EXCLUDED_CHECKS")
    fi
    local status=0
    timeout --signal=INT --kill-after=30 "$RUN_TIMEOUT" \
        "${VENV}/bin/schemathesis" --config-file "$CONFIG" run "${base}/openapi.json" \
        --checks "$CHECKS" "${exclude[@]}" \
        --seed "$SEED" \
        --max-examples "$MAX_EXAMPLES" \
        --workers 1 \
        --request-timeout 10 \
        --no-color \
        --report junit --report-junit-path "$work/junit.xml" \
        || status=$?

    local requests
    requests="$(grep -c '"request finished"' "$work/server.log" || true)"
    cleanup
    echo "${backend}: the server answered ${requests} requests (log: ${work}/server.log)"
    if [ "$status" -ne 0 ]; then
        echo "${backend}: schemathesis failed (exit status ${status}; 124 means it ran out of ${RUN_TIMEOUT} s)" >&2
        return 1
    fi
    if [ "$requests" -lt "$MIN_REQUESTS" ]; then
        echo "${backend}: only ${requests} requests, fewer than ${MIN_REQUESTS}" >&2
        return 1
    fi
}

for tool in python3 curl timeout; do
    command -v "$tool" >/dev/null || { echo "conformance run: ${tool} is needed" >&2; exit 1; }
done
if [[ " ${BACKENDS[*]} " == *" postgres "* ]] && ! command -v psql >/dev/null; then
    echo "conformance run: psql is needed for the PostgreSQL run (apt-get install postgresql-client)" >&2
    exit 1
fi
install_schemathesis
say "building the hotline binary"
cargo build --quiet -p hotline-server --bin hotline

failed=()
for backend in "${BACKENDS[@]}"; do
    run_backend "$backend" || failed+=("$backend")
done
if [ "${#failed[@]}" -ne 0 ]; then
    echo "conformance run failed on: ${failed[*]}" >&2
    exit 1
fi
echo
echo "conformance run passed on: ${BACKENDS[*]}"
