"""``scripts/panel_harness``: the real panel in a real browser, over the real Plugin.

Builds the harness page (``harness/vite.config.ts``: ``src/index.tsx`` with ``@decky/ui``
and ``@decky/api`` replaced by ``harness/stubs``) into ``out/harness-page``, starts
``scripts/harness_bridge.py`` in a throwaway folder (a Decky, Steam and RetroDECK tree;
the fake RomM server unless ``--romm-url``), then runs ``harness/walk.mjs`` (Playwright
driving ``/usr/bin/chromium``), which saves a PNG per step in ``--out`` (default
``out/screenshots``) and ``report.json``. ``--serve`` only serves the page and prints its
address, to try the panel by hand until Ctrl-C.

Against a real server: ``--romm-url URL --username USER``, password from
``$ROMDECK_PASSWORD``. Nothing of yours is read or written apart from that server: the
sync goes to the throwaway tree's stand-in Steam, downloads into its RetroDECK folders.
Exit code: the walker's (0: every step passed or was skipped), 2 for bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
READY = "HARNESS-READY "
START_TIMEOUT_S = 60


def build_page() -> None:
    """Bundle the harness page with vite (raises CalledProcessError when it fails)."""
    vite = ROOT / "node_modules" / ".bin" / "vite"
    if not vite.exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=ROOT, check=True)
    subprocess.run([str(vite), "build", "--config", "harness/vite.config.ts"], cwd=ROOT, check=True)


def start_bridge(
    where: Path, romm_url: str | None, port: int
) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """Start the bridge; returns it and its ``HARNESS-READY`` object once it serves."""
    command = [sys.executable, str(ROOT / "scripts" / "harness_bridge.py"), "--dir", str(where)]
    command += ["--port", str(port)] + (["--romm-url", romm_url] if romm_url else [])
    bridge = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert bridge.stdout is not None
    for line in bridge.stdout:  # the bridge logs to stderr; stdout has only the ready line
        if line.startswith(READY):
            return bridge, json.loads(line[len(READY) :])
    bridge.wait(timeout=START_TIMEOUT_S)
    raise RuntimeError(f"the harness bridge exited with {bridge.returncode} before serving")


def stop(bridge: subprocess.Popen[str]) -> None:
    """SIGTERM (the bridge unloads the Plugin), then SIGKILL after 10 s."""
    if bridge.poll() is None:
        bridge.send_signal(signal.SIGTERM)
        try:
            bridge.wait(timeout=10)
        except subprocess.TimeoutExpired:
            bridge.kill()
            bridge.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="panel_harness", description="The panel in a real browser."
    )
    parser.add_argument("--romm-url", help="a RomM server (default: the fake one)")
    parser.add_argument("--username", help="RomM user for --romm-url (password: $ROMDECK_PASSWORD)")
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "screenshots")
    parser.add_argument("--dir", type=Path, help="the throwaway tree (default: a new temp folder)")
    parser.add_argument("--serve", action="store_true", help="only serve the page (Ctrl-C stops)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--skip-build", action="store_true", help="reuse out/harness-page")
    args = parser.parse_args(argv)
    if (
        args.romm_url
        and not args.serve
        and not (args.username and os.environ.get("ROMDECK_PASSWORD"))
    ):
        parser.error("--romm-url needs --username and the password in $ROMDECK_PASSWORD")
    if not args.skip_build:
        build_page()
    where: Path = args.dir or Path(tempfile.mkdtemp(prefix="romdeck-harness-"))
    bridge, ready = start_bridge(where, args.romm_url, args.port)
    try:
        if args.serve:
            print(f"Open {ready['page']} (RomM: {ready['romm_url']}; tree: {where}). Ctrl-C stops.")
            signal.sigwait({signal.SIGINT, signal.SIGTERM})
            return 0
        shutil.rmtree(args.out, ignore_errors=True)
        walker = [shutil.which("node") or "node", str(ROOT / "harness" / "walk.mjs")]
        walker += ["--page", ready["page"], "--out", str(args.out)]
        walker += ["--username", args.username] if args.username else []
        return subprocess.run(walker, cwd=ROOT, check=False).returncode
    finally:
        stop(bridge)
        print(f"Screenshots: {args.out}; throwaway tree: {where}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
