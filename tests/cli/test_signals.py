"""Ctrl-C and a CI cancel stop a running preview cleanly: every process kmsguard started ends, its
temporary directory goes, and the exit code is 128+signal (130 SIGINT, 143 SIGTERM); the children
also end when kmsguard itself is killed outright (SIGKILL: the supervisors' lifeline closes)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from .support import KMSGUARD, REPO

HANGS = REPO / "tests" / "programs" / "hangs"


def _descendants(root: int) -> dict[int, str]:
    """pid → command line of every live process below ``root`` (from /proc)."""
    parents: dict[int, int] = {}
    commands: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_bytes()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(b")", 1)[1].split()
        if fields[0] == b"Z":
            continue
        parents[int(entry)] = int(fields[1])
        commands[int(entry)] = cmdline.replace(b"\0", b" ").decode("utf-8", "replace")
    found: dict[int, str] = {}
    frontier = [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in found:
                found[child] = commands[child]
                frontier.append(child)
    return found


def _start_preview() -> tuple[subprocess.Popen[str], dict[int, str], Path]:
    # Its own session, like a terminal job: SIGINT to the group is what Ctrl-C sends.
    proc = subprocess.Popen(
        [str(KMSGUARD), "preview", str(HANGS), "--stack", "dev", "--engine", "mocks"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        tree = _descendants(proc.pid)
        hosts = [c for c in tree.values() if "spec.json" in c and "_kmsguard_program_host" in c]
        packs = [c for c in tree.values() if "-m pulumi.policy" in c and "_supervisor" not in c]
        if hosts and packs:
            spec = next(part for part in hosts[0].split() if part.endswith("spec.json"))
            time.sleep(0.5)  # the program is now inside its endless loop
            return proc, _descendants(proc.pid), Path(spec).parent
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("the preview did not start its program host and pack within 60 s")


def _gone(pids: dict[int, str], timeout: float = 5.0) -> list[str]:
    deadline = time.monotonic() + timeout
    alive: list[str] = []
    while time.monotonic() < deadline:
        alive = [cmd for pid, cmd in pids.items() if _alive(pid)]
        if not alive:
            break
        time.sleep(0.1)
    return alive


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except OSError:
        return False
    return state != b"Z"


@pytest.mark.parametrize(
    ("signum", "to_group", "code"),
    [(signal.SIGINT, True, 130), (signal.SIGTERM, False, 143)],
    ids=["ctrl-c-to-the-process-group", "sigterm-to-kmsguard-alone"],
)
def test_a_signal_ends_every_child_and_removes_the_temp_dir(signum: int, to_group: bool, code: int) -> None:
    proc, children, tmp = _start_preview()
    assert tmp.is_dir() and len(children) >= 4  # two supervisors, the program host, the pack
    began = time.monotonic()
    if to_group:
        os.killpg(proc.pid, signum)
    else:
        os.kill(proc.pid, signum)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == code
    assert time.monotonic() - began < 5
    assert err == (
        f"kmsguard: stopped by {signal.Signals(signum).name}; the program and the policy pack were ended\n"
    )
    assert _gone(children) == []
    assert not tmp.exists()


def test_children_end_when_kmsguard_is_killed_outright() -> None:
    proc, children, tmp = _start_preview()
    proc.kill()  # SIGKILL: no code of kmsguard runs
    proc.wait(timeout=10)
    assert _gone(children, timeout=10) == []
    assert not tmp.exists()  # the program host's supervisor removed it
