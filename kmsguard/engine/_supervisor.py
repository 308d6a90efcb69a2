"""The supervisor of one child of kmsguard (see ``kmsguard.engine.children``): run as
``python -I -S _supervisor.py LIFELINE_FD GRACE N PATH... ARGV...``, standard library only.

It forks the child into its own process group (this process is the leader), makes the child die
with it (PR_SET_PDEATHSIG: the forking thread is this process's only thread), and ends the group
when kmsguard is gone (EOF on the lifeline pipe, however kmsguard died) or on SIGTERM/SIGINT/SIGHUP
(forwarded to the group, SIGKILL after GRACE seconds); it removes PATHs when orphaned, kills what
the child left in the group when it exits, and exits with the child's status.
"""

import contextlib
import os
import signal
import sys
import threading
import time
from typing import Any

lifeline, grace, n = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
remove, argv = sys.argv[4 : 4 + n], sys.argv[4 + n :]
me = os.getpid()
prctl: Any = None
if sys.platform.startswith("linux"):
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except Exception:
        prctl = None
child = os.fork()
if child == 0:
    try:
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE):
            signal.signal(s, signal.SIG_DFL)
        if prctl is not None:
            prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: dies with this (single-threaded) supervisor
        if os.getppid() != me:
            os._exit(137)
        os.close(lifeline)
        os.execvp(argv[0], argv)
    except BaseException as exc:
        os.write(2, (f"kmsguard: cannot start {argv[0]}: {exc}\n").encode("utf-8", "replace"))
    os._exit(127)
ending: list[int] = []
orphaned: list[bool] = []


def end(sig: int) -> None:
    if ending:
        return
    ending.append(sig)
    signal.signal(sig, signal.SIG_IGN)
    with contextlib.suppress(OSError):
        os.killpg(me, sig)

    def hard() -> None:
        time.sleep(grace)
        # The child only: this process must live on to remove the paths, then ends the group.
        with contextlib.suppress(OSError):
            os.kill(child, signal.SIGKILL)

    threading.Thread(target=hard, daemon=True).start()


for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(s, lambda sig, frame: end(sig))


def watch() -> None:
    try:
        while os.read(lifeline, 1):
            pass
    except OSError:
        pass
    orphaned.append(True)
    os.kill(me, signal.SIGTERM)  # handled on the main thread, which waits for the child


threading.Thread(target=watch, daemon=True).start()
while True:
    try:
        _, status = os.waitpid(child, 0)
        break
    except ChildProcessError:
        status = 0
        break


def stragglers() -> None:
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if entry.isdigit() and int(entry) != me:
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    fields = f.read().rsplit(b")", 1)[1].split()
                if int(fields[2]) == me:
                    os.kill(int(entry), signal.SIGKILL)
            except (OSError, IndexError, ValueError):
                pass


stragglers()  # what the child left in the group (a daemon the program started)
if orphaned:
    import shutil

    for path in remove:
        shutil.rmtree(path, ignore_errors=True)
if ending:
    os.killpg(me, signal.SIGKILL)
if os.WIFSIGNALED(status):
    signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
    os.kill(me, os.WTERMSIG(status))
os._exit(os.waitstatus_to_exitcode(status) if not os.WIFSIGNALED(status) else 128 + os.WTERMSIG(status))
