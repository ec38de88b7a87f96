#!/usr/bin/env bash
# Make constraints.txt, the exact lock of the book's environment, in one command:
#
#   scripts/lock.sh             re-lock: keep every pin of the current lock, resolve only what is new
#                               (a package added to pyproject.toml and what it pulls in)
#   scripts/lock.sh --upgrade   the newest versions that pyproject.toml's ranges allow
#                               (then re-execute the book: `make book`, and record it in CHANGELOG.md)
#
# It installs `-e .[all]` (editable: no build/ folder in the checkout) into a fresh virtualenv in a
# temporary folder (never .venv), then writes `pip freeze` of it, sorted case-insensitively, under
# the header below. Local version labels are dropped (torch 2.13.0+cpu is locked as torch==2.13.0, which pip's == accepts for the +cpu wheel).
# PYTHON picks the interpreter (default python3.11, the book's Python).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
upgrade=no
case "${1:-}" in
  "") ;;
  --upgrade) upgrade=yes ;;
  *) echo "usage: scripts/lock.sh [--upgrade]" >&2; exit 2 ;;
esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
"$PYTHON" -m venv "$tmp/venv"
pip=("$tmp/venv/bin/python" -m pip --disable-pip-version-check)
"${pip[@]}" install --quiet --upgrade "pip>=24"
if [ "$upgrade" = yes ]; then
  "${pip[@]}" install --quiet -e ".[all]"
else
  "${pip[@]}" install --quiet -c constraints.txt -e ".[all]"
fi
python_version=$("$tmp/venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
{
  echo "# The exact lock of the book's environment: every package .[all] installs, at the version that"
  echo "# made the stored notebook outputs. Python $python_version. Install with: pip install -c constraints.txt -e \".[all]\""
  echo "# Made by scripts/lock.sh (a fresh virtualenv, pip install -c constraints.txt -e \".[all]\","
  echo "# pip freeze --exclude-editable --exclude lrlab, local version labels dropped, lines sorted case-insensitively)."
  echo "# Do not edit by hand: change the ranges in pyproject.toml, then run scripts/lock.sh [--upgrade]."
  "${pip[@]}" freeze --exclude-editable --exclude lrlab | sed -E 's/^([^=]+==[^+]+)\+.*$/\1/' \
    | "$tmp/venv/bin/python" -c 'import sys; sys.stdout.writelines(sorted(sys.stdin, key=str.lower))'
} > "$tmp/constraints.txt"
mv "$tmp/constraints.txt" constraints.txt
echo "constraints.txt: $(grep -vc '^#' constraints.txt) packages locked (Python $python_version)"
