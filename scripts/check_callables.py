"""Check that the panel and the backend agree on callable names and error codes.

Compares, under a repository root:

- the public async methods of ``class Plugin`` in ``main.py`` (names not starting
  with ``_``, read with :mod:`ast`) with the names bound in ``src/backend.ts`` as
  ``= rpc<...>("name")``;
- the values of ``class ErrorCode`` in ``py_modules/romdeck/errors.py`` with the
  string literals of ``export type ErrorCode = ...;`` in ``src/backend.ts``;
- the event names ``main.py`` passes to ``decky.emit("name", ...)`` with the string values
  of ``export const EVENTS = {...}`` in ``src/backend.ts`` (both may be empty).

Usage: ``python scripts/check_callables.py [--root DIR]``. Prints one line per
mismatch and exits 1 if there is any (or if a file is missing or unreadable);
exits 0 and prints a one-line summary otherwise. Standard library only.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

MAIN_PY = Path("main.py")
ERRORS_PY = Path("py_modules/romdeck/errors.py")
BACKEND_TS = Path("src/backend.ts")

_RPC_BINDING = re.compile(r"=\s*rpc\s*<.*?>\s*\(\s*[\"']([A-Za-z_]\w*)[\"']", re.DOTALL)
_ERROR_CODE_TYPE = re.compile(r"export\s+type\s+ErrorCode\s*=([^;]*);")
_STRING_LITERAL = re.compile(r"[\"']([^\"']*)[\"']")
_EVENTS_OBJECT = re.compile(r"export\s+const\s+EVENTS\s*=\s*\{([^}]*)\}")


class CheckError(Exception):
    """An input file is missing or does not have the expected shape."""


@dataclass(frozen=True)
class Mismatch:
    """One difference between the Python and the TypeScript side."""

    kind: str  # "callable" or "error code"
    name: str
    only_in: str  # the file that has it; the other side lacks it

    def __str__(self) -> str:
        return f"{self.kind} {self.name!r} is only in {self.only_in}"


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as err:
        raise CheckError(f"cannot read {path}: {err.strerror or err}") from err


def _parse(path: Path) -> ast.Module:
    try:
        return ast.parse(_read(path), filename=str(path))
    except SyntaxError as err:
        raise CheckError(f"cannot parse {path}: {err.msg} (line {err.lineno})") from err


def _find_class(module: ast.Module, name: str, path: Path) -> ast.ClassDef:
    for node in module.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return node
    raise CheckError(f"{path} has no top-level class {name}")


def plugin_callables(main_py: Path) -> set[str]:
    """Names of ``Plugin``'s async methods in ``main_py`` that do not start with ``_``."""
    plugin = _find_class(_parse(main_py), "Plugin", main_py)
    return {
        node.name
        for node in plugin.body
        if isinstance(node, ast.AsyncFunctionDef) and not node.name.startswith("_")
    }


def python_error_codes(errors_py: Path) -> set[str]:
    """String values assigned in ``class ErrorCode`` of ``errors_py``."""
    enum = _find_class(_parse(errors_py), "ErrorCode", errors_py)
    codes: set[str] = set()
    for node in enum.body:
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            codes.add(value.value)
    if not codes:
        raise CheckError(f"{errors_py}: class ErrorCode has no string values")
    return codes


def typescript_callables(backend_ts: Path) -> set[str]:
    """Backend method names bound in ``backend_ts`` as ``= rpc<...>("name")``."""
    return set(_RPC_BINDING.findall(_strip_comments(_read(backend_ts))))


def typescript_error_codes(backend_ts: Path) -> set[str]:
    """String literals of the ``export type ErrorCode = ...;`` union in ``backend_ts``."""
    match = _ERROR_CODE_TYPE.search(_strip_comments(_read(backend_ts)))
    if match is None:
        raise CheckError(f"{backend_ts} has no `export type ErrorCode = ...;`")
    return set(_STRING_LITERAL.findall(match.group(1)))


def python_events(main_py: Path) -> set[str]:
    """Event names ``main.py`` emits: the first argument of each ``decky.emit("name", ...)``."""
    names: set[str] = set()
    for node in ast.walk(_parse(main_py)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "emit"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "decky"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value)
    return names


def typescript_events(backend_ts: Path) -> set[str]:
    """String values of ``export const EVENTS = {...}`` in ``backend_ts`` (none: empty)."""
    found = _EVENTS_OBJECT.search(_strip_comments(_read(backend_ts)))
    if found is None:
        return set()
    return {value for value in _STRING_LITERAL.findall(found.group(1))}


def _strip_comments(source: str) -> str:
    without_blocks = re.sub(r"/\*.*?\*/", "", source, flags=re.DOTALL)
    return re.sub(r"(?m)^\s*//.*$", "", without_blocks)


def _differences(
    kind: str, python: set[str], py_file: Path, ts: set[str], ts_file: Path
) -> Iterator[Mismatch]:
    for name in sorted(python - ts):
        yield Mismatch(kind, name, str(py_file))
    for name in sorted(ts - python):
        yield Mismatch(kind, name, str(ts_file))


def check(root: Path) -> list[Mismatch]:
    """All mismatches under ``root``; empty when both sides agree. Raises CheckError."""
    backend_ts = root / BACKEND_TS
    callables = _differences(
        "callable",
        plugin_callables(root / MAIN_PY),
        MAIN_PY,
        typescript_callables(backend_ts),
        BACKEND_TS,
    )
    codes = _differences(
        "error code",
        python_error_codes(root / ERRORS_PY),
        ERRORS_PY,
        typescript_error_codes(backend_ts),
        BACKEND_TS,
    )
    events = _differences(
        "event",
        python_events(root / MAIN_PY),
        MAIN_PY,
        typescript_events(backend_ts),
        BACKEND_TS,
    )
    return [*callables, *codes, *events]


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (0 agree, 1 mismatch or bad input)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    default_root = Path(__file__).resolve().parent.parent
    parser.add_argument("--root", type=Path, default=default_root, help="repository root")
    args = parser.parse_args(argv)
    try:
        mismatches = check(args.root)
    except CheckError as err:
        print(f"check_callables: {err}", file=sys.stderr)
        return 1
    for mismatch in mismatches:
        print(f"check_callables: {mismatch}", file=sys.stderr)
    if mismatches:
        return 1
    print("check_callables: callables, error codes and events match")
    return 0


if __name__ == "__main__":
    sys.exit(main())
