#!/usr/bin/env bash
# The README demo: installs everything (system packages, pcscd, a virtual environment), then
# runs the whole chain on this machine and stops everything it started:
#   docval-sim (virtual passport in pcscd's vpcd reader) → pcscd → docval-client (PC/SC)
#   → DocVal server (twistd, test CSCA trust store) → result server (examples/result_server.py).
# It prints the validated result and saves the photo and the result JSON under out/.
source "$(dirname "$0")/lib.sh"
setup_all
cd "$ROOT"
out="${DOCVAL_OUT:-$ROOT/out}"
ws_port="${DOCVAL_PORT:-8765}"
result_port="${DOCVAL_RESULT_PORT:-8090}"
mkdir -p "$out"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

wait_for() {  # wait_for <what> <pid> <log> <command...>: poll until the command succeeds
    local what="$1" pid="$2" log="$3"
    shift 3
    for _ in $(seq 1 100); do
        "$@" >/dev/null 2>&1 && return 0
        kill -0 "$pid" 2>/dev/null || { tail -n 5 "$log" >&2; die "$what stopped"; }
        sleep 0.2
    done
    tail -n 5 "$log" >&2
    die "$what did not come up"
}
http_ok() { "$VENV/bin/python" -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=1)" "$1"; }

say "writing the test trust store (CSCAs, CRLs, master list) to $out/trust"
"$VENV/bin/docval-sim" --write-trust-store "$out/trust" >/dev/null
cat > "$out/demo.toml" <<TOML
[server]
endpoint = "tcp:$ws_port:interface=127.0.0.1"
[trust]
paths = ["trust"]
[clients.demo]
result_url = "http://127.0.0.1:$result_port/results"
TOML

say "starting the result server on 127.0.0.1:$result_port"
"$VENV/bin/python" examples/result_server.py --port "$result_port" --out "$out/results" >"$out/result-server.log" 2>&1 &
pids+=($!)
wait_for "the result server" "$!" "$out/result-server.log" grep -q listening "$out/result-server.log"

say "starting the DocVal server (twistd) on ws://127.0.0.1:$ws_port/ws2/validate"
(cd "$out" && exec "$VENV/bin/twistd" -n --pidfile= --logfile="$out/server.log" docval --config demo.toml) \
    2>"$out/server.err" &
pids+=($!)
wait_for "the DocVal server" "$!" "$out/server.err" http_ok "http://127.0.0.1:$ws_port/health"

say "inserting the virtual passport (utopia test passport) into the vpcd reader"
"$VENV/bin/docval-sim" --profile utopia >"$out/docval-sim.log" 2>&1 &
pids+=($!)
wait_for "docval-sim" "$!" "$out/docval-sim.log" grep -q inserted "$out/docval-sim.log"

say "reading and validating the passport through pcscd"
"$VENV/bin/docval-client" read --server "ws://127.0.0.1:$ws_port/ws2/validate" --client-id demo \
    --reader "Virtual PCD" --document-number UT1234567 --birth 900315 --expiry 340415 \
    --photo "$out/face.jpg" --json "$out/result.json"
status=$?
say "the result server received: $(grep '^result' "$out/result-server.log" | tail -n 1)"
exit $status
