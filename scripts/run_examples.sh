#!/usr/bin/env bash
# Run examples/playwright from a directory of their own, as a tester would: nothing but the kit
# (call_center.testing and its pytest plugin, registered by `pip install -e .`) is on hand there.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="$PWD/.venv/bin/python"
work=$(mktemp -d -t call-center-examples-XXXXXX)
trap 'rm -rf "$work"' EXIT
cp examples/playwright/*.py "$work/"
cd "$work"
"$PY" -m pytest -q -p no:cacheprovider -p no:asyncio --cc-artifacts="$OLDPWD/test-results/examples" "$@"
