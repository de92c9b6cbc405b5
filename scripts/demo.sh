#!/usr/bin/env bash
# The README demo: installs everything (system packages, pcscd, a virtual environment),
# inserts the virtual passport into pcscd's vpcd reader, and reads it through the real PC/SC
# stack with BAC, checking every data group against the SOD. Stops what it started.
source "$(dirname "$0")/lib.sh"
setup_all
cd "$ROOT"
out="${DOCVAL_OUT:-$ROOT/out}"
mkdir -p "$out"
say "inserting the virtual passport (BSI reference data) into the vpcd reader"
"$VENV/bin/docval-sim" --profile bsi >"$out/docval-sim.log" 2>&1 &
sim=$!
trap 'kill "$sim" 2>/dev/null || true; wait "$sim" 2>/dev/null || true' EXIT
for i in $(seq 1 50); do
    grep -q inserted "$out/docval-sim.log" 2>/dev/null && break
    kill -0 "$sim" 2>/dev/null || { cat "$out/docval-sim.log" >&2; die "docval-sim stopped"; }
    sleep 0.1
done
say "reading the passport through pcscd"
"$VENV/bin/python" examples/read_passport.py --reader "Virtual PCD 00 00" --wait 10 \
    --document-number C11T002JM --birth 960812 --expiry 231031 --photo "$out/face.jp2"
