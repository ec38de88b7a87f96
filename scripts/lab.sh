#!/usr/bin/env bash
# JupyterLab on the book, as any user, root included (the usual case in a container): the one
# command line that `make lab` runs and tests/test_lab.py starts. Arguments are passed on to
# `jupyter lab` (e.g. --port=8899). LAB_TOKEN, if set, is the server's token; otherwise Jupyter
# makes one and prints the URL with it. JUPYTER names the jupyter executable (default: on PATH).
#
# The server's root is the repository root, not book/: jupytext looks for jupytext.toml only in
# the notebook's folder and its parents up to the server's root, so rooting the server at book/
# would lose the automatic pairing. JupyterLab opens on book/.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
args=(lab --no-browser --ServerApp.root_dir="$repo" --LabApp.default_url=/lab/tree/book)
if [ "$(id -u)" = 0 ]; then
  args+=(--allow-root)  # JupyterLab refuses to start as root without it
fi
if [ -n "${LAB_TOKEN:-}" ]; then
  args+=(--IdentityProvider.token="$LAB_TOKEN")
fi
exec "${JUPYTER:-jupyter}" "${args[@]}" "$@"
