# Shared set-up for scripts/demo.sh and scripts/test.sh. Idempotent: each step checks
# before it acts, so running it again costs seconds. Every failure prints one line saying
# what is missing and exits non-zero.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${DOCVAL_VENV:-$ROOT/.venv}"
APT_PACKAGES=(pcscd vsmartcard-vpcd libpcsclite-dev swig pcsc-tools python3-venv python3-dev
              build-essential pkg-config procps)

die() { echo "error: $*" >&2; exit 1; }
say() { echo "==> $*" >&2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else die "root or sudo is needed to run: $*"
    fi
}

ensure_system_packages() {
    command -v apt-get >/dev/null 2>&1 \
        || die "apt-get not found: this set-up supports Debian 12 or newer (and derivatives)"
    local missing=() p
    for p in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$p")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        say "installing system packages: ${missing[*]}"
        as_root apt-get update -qq >/dev/null || die "apt-get update failed (network or sources?)"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
        # A pcscd started before the vpcd driver was installed does not know the reader.
        as_root pkill -x pcscd 2>/dev/null || true
    fi
}

find_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 \
           && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"; return 0
        fi
    done
    die "Python 3.11 or newer not found (apt-get install python3)"
}

ensure_venv() {
    local python stamp want
    if [ ! -x "$VENV/bin/python" ]; then
        python="$(find_python)"
        say "creating virtual environment $VENV"
        "$python" -m venv "$VENV" || die "could not create a virtual environment (python3-venv?)"
    fi
    stamp="$VENV/.docval-installed"
    want="$(cat "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        say "installing docval and its dependencies into $VENV"
        local log="$VENV/pip-install.log"
        if ! { "$VENV/bin/python" -m pip install -q --upgrade pip \
               && "$VENV/bin/python" -m pip install -q --config-settings editable_mode=compat \
                      -e "$ROOT[test]"; } >"$log" 2>&1; then
            grep -v "^WARNING: Location" "$log" | tail -n 20 >&2
            die "pip install failed (full log: $log)"
        fi
        echo "$want" > "$stamp"
    fi
}

pcscd_running() {
    # A live (non-zombie) pcscd whose socket exists.
    ps -C pcscd -o stat= 2>/dev/null | grep -qv '^Z' && [ -S /run/pcscd/pcscd.comm ]
}

ensure_pcscd() {
    if ! pcscd_running; then
        say "starting pcscd"
        as_root pkill -x pcscd 2>/dev/null || true
        as_root rm -f /run/pcscd/pcscd.comm /run/pcscd/pcscd.pid
        as_root mkdir -p /run/pcscd
        as_root pcscd || die "could not start pcscd"
    fi
    local i
    for i in $(seq 1 50); do
        [ -S /run/pcscd/pcscd.comm ] && return 0
        sleep 0.1
    done
    die "pcscd is not answering on /run/pcscd/pcscd.comm"
}

setup_all() {
    ensure_system_packages
    ensure_venv
    ensure_pcscd
}
