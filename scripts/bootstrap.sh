#!/usr/bin/env bash
# Set up this checkout for running the app and the tests; safe to re-run (fast when nothing changed).
#   1. Debian's chromium at /usr/bin/chromium (browser tests drive it; never `playwright install`), and
#      Debian's nginx and curl (scripts/serve.sh puts replicas behind nginx)
#   2. .venv (python3 -m venv, Python >= 3.11) with requirements.txt installed
# The pip step is skipped when .venv/.requirements.sha256 matches requirements.txt + Python version.
# Env: PYTHON=<interpreter used to create .venv> (default python3).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
say() { printf '[bootstrap] %s\n' "$*"; }
die() { printf '[bootstrap] ERROR: %s\n' "$*" >&2; exit 1; }
START=$SECONDS

# --- 1. chromium --------------------------------------------------------------------------------
CHROMIUM=/usr/bin/chromium
if [[ -x $CHROMIUM ]]; then
    say "chromium: $("$CHROMIUM" --version 2>/dev/null || echo present)"
else
    SUDO=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null || die "$CHROMIUM is missing and sudo is not available: apt-get install chromium as root"
        SUDO=(sudo)
    fi
    say "chromium: not found, installing Debian's chromium with apt-get"
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    [[ -x $CHROMIUM ]] || die "apt-get install chromium did not provide $CHROMIUM"
    say "chromium: $("$CHROMIUM" --version 2>/dev/null || echo installed)"
fi

# --- 1b. nginx and curl (scripts/serve.sh: replicas behind nginx, health checks with curl) --------------
if [[ -x /usr/sbin/nginx ]] && command -v curl >/dev/null; then
    say "nginx: $(/usr/sbin/nginx -v 2>&1 | sed 's/^nginx version: //')"
else
    SUDO=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null || die "nginx or curl is missing and sudo is not available: apt-get install nginx curl as root"
        SUDO=(sudo)
    fi
    say "nginx: not found, installing Debian's nginx (and curl) with apt-get"
    "${SUDO[@]}" apt-get update -qq
    # serve.sh never uses the package's own service or config: it runs its own nginx, as this user
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx curl >/dev/null
    [[ -x /usr/sbin/nginx ]] || die "apt-get install nginx did not provide /usr/sbin/nginx"
    say "nginx: $(/usr/sbin/nginx -v 2>&1 | sed 's/^nginx version: //')"
fi

# --- 2. virtualenv ------------------------------------------------------------------------------
VENV=.venv
PY=$VENV/bin/python
if ! [[ -x $PY ]] || ! "$PY" -c 'import sys' 2>/dev/null; then
    BASE_PY=${PYTHON:-python3}
    command -v "$BASE_PY" >/dev/null || die "$BASE_PY not found (need Python >= 3.11 with venv)"
    "$BASE_PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || die "$BASE_PY is Python $("$BASE_PY" -c 'import platform; print(platform.python_version())'); need >= 3.11"
    [[ -e $VENV ]] && { say "venv: $VENV is broken, recreating"; rm -rf "$VENV"; }
    say "venv: creating $VENV with $("$BASE_PY" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
    "$BASE_PY" -m venv "$VENV"
fi
say "venv: $("$PY" -c 'import sys; print(sys.version.split()[0])') at $VENV"

# --- 3. requirements ----------------------------------------------------------------------------
STAMP=$VENV/.requirements.sha256
WANT=$( { cat requirements.txt; "$PY" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1)
HAVE=$(cat "$STAMP" 2>/dev/null || true)
# A matching stamp is trusted only if the key packages are importable (cheap: no imports run).
if [[ $WANT == "$HAVE" ]] && "$PY" -c '
import importlib.util as u, sys
sys.exit(any(u.find_spec(m) is None for m in ("streamlit", "plotly", "numpy", "playwright", "pytest")))'
then
    say "requirements: up to date (stamp matches requirements.txt)"
else
    say "requirements: pip install -r requirements.txt (a fresh venv takes a few minutes) ..."
    rm -f "$STAMP"
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$PY" -m pip install --quiet --progress-bar off -r requirements.txt
    echo "$WANT" >"$STAMP"
    say "requirements: installed"
fi

say "done in $((SECONDS - START))s"
