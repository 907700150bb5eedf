#!/usr/bin/env bash
# Fuzzes the hub's API against its own OpenAPI description with schemathesis
# (PyPI): no 5xx, responses as documented, bad input refused. Two passes:
# unsigned (the authentication layer) and through scripts/signing_proxy.py as
# a registered terminal (the handlers). The hub runs on loopback and is
# stopped at the end. Needs python3 with venv; installs into target/.
#
#   scripts/schemathesis.sh            # CUNBAN_ST_EXAMPLES=N per operation (default 50)
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET="${CARGO_TARGET_DIR:-target}"
VENV="$TARGET/schemathesis-venv"
EXAMPLES="${CUNBAN_ST_EXAMPLES:-50}"

if [ ! -x "$VENV/bin/schemathesis" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q 'schemathesis>=4,<5' 'cryptography>=42'
fi
cargo build -q -p hub

work="$(mktemp -d)"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

public_key="$("$VENV/bin/python" scripts/signing_proxy.py keygen "$work/terminal.key")"
"$TARGET/debug/hub" --listen 127.0.0.1:0 --db "$work/hub.db" --trust-terminal "SCHEMA-0001:$public_key" \
    >"$work/hub.out" 2>"$work/hub.log" &
pids+=($!)
for _ in $(seq 100); do grep -q "listening on" "$work/hub.out" 2>/dev/null && break; sleep 0.1; done
hub="http://$(sed -n 's/^listening on //p' "$work/hub.out")"
echo "hub at $hub"

coproc PROXY { exec "$VENV/bin/python" scripts/signing_proxy.py serve "$work/terminal.key" SCHEMA-0001 "$hub"; }
pids+=($PROXY_PID)
read -r proxy_port <&"${PROXY[0]}"
proxy="http://127.0.0.1:$proxy_port"
# Python, not curl: a fresh CI machine has Python but maybe no curl.
"$VENV/bin/python" -c 'import sys, urllib.request; sys.stdout.buffer.write(urllib.request.urlopen(sys.argv[1]).read())' "$hub/v1/openapi.json" >"$work/openapi.json"

checks=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,negative_data_rejection
common=(--checks "$checks" --max-examples "$EXAMPLES" --seed 4 --generation-database none --no-color --suppress-health-check all)

start=$(date +%s)
echo "== unsigned: the authentication layer =="
"$VENV/bin/schemathesis" run "$work/openapi.json" --url "$hub" "${common[@]}"
echo "== signed as terminal SCHEMA-0001: the handlers =="
"$VENV/bin/schemathesis" run "$work/openapi.json" --url "$proxy" "${common[@]}"
echo "schemathesis: both passes clean in $(( $(date +%s) - start )) s"
if grep -q " ERROR \| panicked" "$work/hub.log"; then
    echo "the hub logged errors:" >&2
    grep " ERROR \| panicked" "$work/hub.log" | head -20 >&2
    exit 1
fi
