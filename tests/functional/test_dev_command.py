"""`stepline dev` as a user runs it: a process that serves until SIGTERM, then leaves nothing."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from local_emulator.api_client import ApiClient

ROOT = Path(__file__).resolve().parents[2]


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
def test_sigterm_stops_the_emulator_and_every_worker() -> None:
    dev = subprocess.Popen(
        [sys.executable, "-m", "local_emulator.cli", "dev", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert dev.stdout is not None
        lines = []
        for line in dev.stdout:
            lines.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        api_url = re.search(r"HTTP API\s+(\S+)", "".join(lines))
        assert api_url is not None, lines
        assert re.search(rf"web page\s+{re.escape(api_url.group(1))}/\s", "".join(lines)), lines
        api = ApiClient(api_url.group(1))
        started = api.invoke("process-order", {"order_id": "o-1", "amount": 42})
        assert api.wait(started["execution_id"], timeout=60)["status"] == "completed"
        workers = children_of(dev.pid)
        assert len(workers) >= 2  # the API's and the runner's environments

        dev.send_signal(signal.SIGTERM)
        assert dev.wait(timeout=30) == 0
        assert dev.stdout.read().strip().endswith("stopped")
        assert not [pid for pid in workers if alive(pid)]
    finally:
        if dev.poll() is None:
            os.kill(dev.pid, signal.SIGKILL)
