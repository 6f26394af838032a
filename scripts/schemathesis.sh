#!/usr/bin/env bash
# Schemathesis (https://schemathesis.readthedocs.io), pinned in scripts/schemathesis-requirements.txt, installed into a
# project-local virtualenv (.venv-fuzz/, gitignored; HERALD_FUZZ_VENV moves it). Needs python3 with venv and pip.
#
#   scripts/schemathesis.sh install     create or update the venv; does nothing when it is up to date
#   scripts/schemathesis.sh run ...     install if needed, then `st run ...`
#
# The fuzz test (test/integration/openapi-fuzz.test.ts) uses both; see README "Development".
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
REQUIREMENTS="$ROOT/scripts/schemathesis-requirements.txt"
VENV="${HERALD_FUZZ_VENV:-$ROOT/.venv-fuzz}"
STAMP="$VENV/.requirements"

install() {
  if [ -x "$VENV/bin/st" ] && [ -f "$STAMP" ] && cmp -s "$REQUIREMENTS" "$STAMP"; then
    return 0
  fi
  echo "schemathesis: installing into $VENV" >&2
  python3 -m venv --clear "$VENV"
  "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input --quiet -r "$REQUIREMENTS"
  cp "$REQUIREMENTS" "$STAMP"
}

case "${1:-}" in
  install)
    install
    "$VENV/bin/st" --version
    ;;
  run)
    install
    shift
    exec "$VENV/bin/st" run "$@"
    ;;
  *)
    echo "usage: $0 install | run [st run options] <schema>" >&2
    exit 64
    ;;
esac
