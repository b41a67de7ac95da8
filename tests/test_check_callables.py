"""scripts/check_callables.py on small repositories written to a temp dir."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from scripts.check_callables import (
    BACKEND_TS,
    ERRORS_PY,
    CheckError,
    Mismatch,
    check,
    main,
    python_error_codes,
    typescript_error_codes,
)

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "check_callables.py"

MAIN_PY = """
class Plugin:
    async def get_status(self):
        return {}

    async def start_sync(self):
        return {}

    async def _main(self):
        pass

    def helper(self):
        pass
"""

ERRORS = '''
from enum import StrEnum

class ErrorCode(StrEnum):
    """Codes."""

    BUSY = "busy"
    INTERNAL = "internal"
'''

BACKEND = """
import { callable } from "@decky/api";
/** Bound with `= rpc<[], X>("not_a_callable")` below. */
export type ErrorCode =
  | "busy"
  | "internal";
function rpc<Args extends unknown[], T>(name: string) { return callable<Args, T>(name); }
export const getStatus = rpc<[], Status>("get_status");
export const startSync = rpc<
  [],
  SyncStarted
>(
  "start_sync",
);
"""


def write_repo(
    root: Path, main_py: str = MAIN_PY, errors: str = ERRORS, backend: str = BACKEND
) -> None:
    files = {Path("main.py"): main_py, ERRORS_PY: errors, BACKEND_TS: backend}
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def test_matching_sides_give_no_mismatch_and_exit_zero(tmp_path: Path) -> None:
    write_repo(tmp_path)
    assert check(tmp_path) == []
    assert main(["--root", str(tmp_path)]) == 0


def test_a_python_callable_missing_in_typescript_is_reported(tmp_path: Path) -> None:
    extra = MAIN_PY + "\n    async def logout(self):\n        return {}\n"
    write_repo(tmp_path, main_py=extra)
    assert check(tmp_path) == [Mismatch("callable", "logout", "main.py")]


def test_a_typescript_callable_missing_in_python_is_reported(tmp_path: Path) -> None:
    extra = BACKEND + 'export const logout = rpc<[], Empty>("logout");\n'
    write_repo(tmp_path, backend=extra)
    assert check(tmp_path) == [Mismatch("callable", "logout", "src/backend.ts")]


def test_error_codes_are_compared_in_both_directions(tmp_path: Path) -> None:
    errors = ERRORS + '    DISK_FULL = "disk_full"\n'
    backend = BACKEND.replace('| "internal";', '| "internal"\n  | "timeout";')
    write_repo(tmp_path, errors=errors, backend=backend)
    assert check(tmp_path) == [
        Mismatch("error code", "disk_full", "py_modules/romdeck/errors.py"),
        Mismatch("error code", "timeout", "src/backend.ts"),
    ]


def test_a_missing_main_py_is_an_error_not_a_pass(tmp_path: Path) -> None:
    write_repo(tmp_path)
    (tmp_path / "main.py").unlink()
    with pytest.raises(CheckError, match=r"main\.py"):
        check(tmp_path)
    assert main(["--root", str(tmp_path)]) == 1


def test_a_backend_without_an_error_code_union_is_an_error(tmp_path: Path) -> None:
    write_repo(tmp_path, backend='export const getStatus = rpc<[], S>("get_status");\n')
    with pytest.raises(CheckError, match="ErrorCode"):
        check(tmp_path)


def test_the_command_lists_mismatches_and_exits_one(tmp_path: Path) -> None:
    write_repo(tmp_path, main_py=MAIN_PY.replace("start_sync", "begin_sync"))
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--root", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "callable 'begin_sync' is only in main.py" in done.stderr
    assert "callable 'start_sync' is only in src/backend.ts" in done.stderr


def test_the_real_backend_ts_mirrors_every_error_code_of_errors_py() -> None:
    assert typescript_error_codes(REPO / BACKEND_TS) == python_error_codes(REPO / ERRORS_PY)


def test_emitted_events_are_compared_with_the_events_the_panel_knows(tmp_path: Path) -> None:
    emitting = MAIN_PY + (
        "\n    async def _tick(self):\n"
        '        await decky.emit("download_progress", {})\n'
        '        await decky.emit("sync_done")\n'
    )
    backend = (
        BACKEND + 'export const EVENTS = {\n  downloadProgress: "download_progress",\n} as const;\n'
    )
    write_repo(tmp_path, main_py=emitting, backend=backend)
    assert check(tmp_path) == [Mismatch("event", "sync_done", "main.py")]
