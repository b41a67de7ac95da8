"""Starts the headless CLI (``python -m romdeck ...``) as a process detached from ours.

Used for the bulk import, whose helper must outlive Steam's restart (and the plugin's
own stop) and must need nothing Decky does not have.

How it runs, by where we are:

* **A plain Python** (headless, tests, a desktop): ``sys.executable -m romdeck <args>``
  in a new session (``setsid``), ``py_modules`` and the plugin folder on
  ``PYTHONPATH``, stdin closed, output appended to a log file.
* **Decky Loader** (a PyInstaller one-file binary: ``sys.frozen`` is set and
  ``sys.executable`` is the loader itself, not a Python; the system ``python3`` is
  another version without aiohttp or our cp311 wheels, so ``python3 -m romdeck`` cannot
  run there): the plugin forks a short-lived middle process, which starts a new session
  and starts the helper with ``multiprocessing``'s *spawn* method, then leaves at once
  (``os._exit``, reaped by the plugin). Spawn runs ``sys.executable`` as a fresh
  interpreter; Decky's entry point calls ``multiprocessing.freeze_support()``, which is
  what lets a frozen binary act as that interpreter. The helper runs the same CLI entry
  point, ``romdeck.cli.main(args)``. It is re-parented to init, outside the plugin's
  process (Decky SIGKILLs that on stop) and in its own session. A plain fork without
  exec is not used: the copied SQLite library state makes the helper's own database
  connection fail ("locking protocol").
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

from romdeck.errors import StateError

Mode = Literal["auto", "subprocess", "spawn"]


class DetachedHelperLauncher:
    """Starts ``romdeck`` CLI commands as detached processes and tells whether they live.

    Args:
        plugin_root: the folder holding ``bootstrap.py`` and ``py_modules/``.
        log_path: where the helper's stdout and stderr are appended.
        entry: the CLI's ``main(argv) -> exit code`` (``romdeck.cli.main``), which the
            spawned helper runs; a module-level function (it is pickled by name), given
            by bootstrap (adapters sit below the CLI).
        mode: ``subprocess`` or ``spawn`` (see the module docstring); ``auto`` picks
            ``spawn`` inside a frozen interpreter (Decky) and ``subprocess`` otherwise.
    """

    def __init__(
        self,
        plugin_root: Path,
        log_path: Path,
        entry: Callable[[list[str]], int],
        mode: Mode = "auto",
    ) -> None:
        self._root = plugin_root
        self._log = log_path
        self._entry = entry
        self._mode: Mode = mode
        self._children: dict[int, subprocess.Popen[bytes]] = {}

    @property
    def mode(self) -> Literal["subprocess", "spawn"]:
        if self._mode != "auto":
            return self._mode
        return "spawn" if getattr(sys, "frozen", False) else "subprocess"

    async def start(self, args: Sequence[str]) -> int:
        """Start ``romdeck <args>`` detached; returns its process id.

        Raises ``StateError`` when no process can be started (the log cannot be opened,
        fork or exec refused).
        """
        try:
            if self.mode == "spawn":
                return await asyncio.to_thread(self._fork, list(args))
            return await asyncio.to_thread(self._spawn, list(args))
        except OSError as err:
            raise StateError(f"Cannot start the RomDeck helper: {err.strerror or err}") from err

    def is_alive(self, pid: int) -> bool:
        """True while process ``pid`` runs (a zombie counts as ended)."""
        child = self._children.get(pid)
        if child is not None:
            return child.poll() is None
        if pid <= 0:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True  # alive, someone else's
        try:
            stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return True
        fields = stat.rpartition(")")[2].split()
        return not (fields and fields[0] == "Z")

    def _spawn(self, args: list[str]) -> int:
        self._log.parent.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        paths = [str(self._root / "py_modules"), str(self._root)]
        if env.get("PYTHONPATH"):
            paths.append(env["PYTHONPATH"])
        env["PYTHONPATH"] = os.pathsep.join(paths)
        with open(self._log, "ab") as log:
            child = subprocess.Popen(
                [sys.executable, "-m", "romdeck", *args],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                cwd=self._root,
                env=env,
                start_new_session=True,
                close_fds=True,
            )
        self._children[child.pid] = child
        return child.pid

    def _fork(self, args: list[str]) -> int:
        self._log.parent.mkdir(parents=True, exist_ok=True)
        read_end, write_end = os.pipe()
        try:
            middle = os.fork()
            if middle == 0:  # the middle process: fork the helper, report its pid, exit
                _become_helper(self._entry, args, str(self._log), read_end, write_end)
            os.close(write_end)
            with os.fdopen(read_end, "rb") as pipe:
                read_end = -1
                reported = pipe.read()
            os.waitpid(middle, 0)
        finally:
            with contextlib.suppress(OSError):
                os.close(write_end)
            if read_end >= 0:
                with contextlib.suppress(OSError):
                    os.close(read_end)
        if not reported.strip().isdigit():
            raise OSError("the helper process did not start")
        return int(reported)


def _become_helper(
    entry: Callable[[list[str]], int], args: list[str], log: str, read_end: int, write_end: int
) -> None:
    """In the middle process: spawn the helper, report its pid and leave at once
    (``os._exit``: none of the plugin's exit handlers run). Never returns."""
    code = 1
    try:
        os.close(read_end)
        os.setsid()
        context = multiprocessing.get_context("spawn")
        helper = context.Process(target=_run_helper, args=(entry, args, log), daemon=False)
        helper.start()
        os.write(write_end, str(helper.pid).encode("ascii"))
        code = 0
    finally:
        os._exit(code)


def _run_helper(entry: Callable[[list[str]], int], args: list[str], log: str) -> None:
    """In the helper (a fresh interpreter): stdio to the log, then the CLI; exits with its code."""
    log_fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115 - the process's stdio
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
    code = 1
    try:
        code = entry(args)
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException:  # the helper must end, with the trace in its log
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)
