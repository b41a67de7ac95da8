# Sourced by scripts/romdeck and scripts/test: make sure .venv exists with our requirements.
# Usage: . scripts/_venv.sh <requirements file>
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ROMDECK_VENV:-$ROOT/.venv}"
_req="$ROOT/${1:-requirements.txt}"
_stamp="$VENV/.romdeck-$(basename "$_req").sha"
_want="$(cat "$ROOT/requirements.txt" "$_req" | sha256sum | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV" >&2
fi
if [ "$(cat "$_stamp" 2>/dev/null)" != "$_want" ]; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$_req" >&2
    echo "$_want" > "$_stamp"
fi
export PYTHONPATH="$ROOT/py_modules:$ROOT${PYTHONPATH:+:$PYTHONPATH}"
