#!/usr/bin/env bash
# Creates analysis/.venv with the pinned requirements (idempotent: a venv
# whose requirements are already installed is left as it is) and prints the
# interpreter to use.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv=${MIDGE_ANALYSIS_VENV:-$here/.venv}
python=${PYTHON:-python3}
stamp="$venv/.requirements"
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$here/requirements.txt" "$stamp"; then
  "$python" -m venv "$venv" >&2
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$here/requirements.txt" >&2
  cp "$here/requirements.txt" "$stamp"
fi
echo "$venv/bin/python"
