"""Child processes tied to kmsguard's lifetime: nothing started here outlives the kmsguard process.

Three ways kmsguard can end while a program host, a policy pack or a Pulumi CLI runs, and what
ends the children in each:

* **an exception or an ordinary return** — the caller's ``finally`` calls :func:`end`, which kills the
  child's whole process group (the child and anything it started);
* **a signal** (Ctrl-C = SIGINT to the terminal's foreground group; SIGTERM to kmsguard alone, which
  is how CI runners cancel a job; SIGHUP) — :func:`handling_signals` kills every live child group at
  once from a thread that the signal wakes (``signal.set_wakeup_fd``), so a main thread blocked in a
  gRPC call or a pipe read is released by its child dying, and then raises :class:`Interrupted` in
  the main thread, so every ``finally`` (temporary directories) runs before kmsguard exits 128+signal;
* **kmsguard killed outright** (SIGKILL, an OOM kill) — no code of ours runs, so each child is
  started under a small *supervisor* (``python -I -S -c _SUPERVISOR``, about 15 ms) that holds the
  read end of a *lifeline* pipe whose only write end lives in the kmsguard process. The kernel
  closes that write end when kmsguard dies, however it dies; the supervisor's read returns EOF and it
  ends its process group (SIGTERM, then SIGKILL after the grace period) and removes the paths it was
  given (the runner's temporary directory).

Why a supervisor and not the alternatives:

* ``PR_SET_PDEATHSIG`` set in a ``preexec_fn`` fires when the *thread* that forked the child ends,
  not the process: the pack is started from a short-lived thread (``evaluate_project`` overlaps its
  start with the program run), so the pack would be killed as soon as it had started. It is also
  Linux-only, and ``preexec_fn`` is unsafe in a threaded parent. The supervisor does set it for its
  child — there the forking thread is the supervisor's only thread, which lives exactly as long as
  the supervisor — so killing the supervisor alone (``Popen.kill()``) ends the child as well;
* a watchdog thread inside each child works only for children that run our Python code; the real
  engine (``kmsguard/engine/pulumi_cli``) starts Go binaries, which a supervisor wraps unchanged;
* polling the parent pid races with pid reuse; a pipe's EOF cannot.

Each child runs in its own process group (the supervisor is the leader; ``pgid == popen.pid``), so a
Ctrl-C in the terminal reaches kmsguard only: kmsguard decides how its children end (the pack and the
program host would otherwise print ``KeyboardInterrupt`` tracebacks of their own).

A child that daemonizes into a new session escapes any process group; nothing here can follow it.
The lifeline is inherited by forks of the kmsguard process (``multiprocessing`` with ``fork``), which
keep the children alive until they end too.

API::

    popen = children.spawn(argv, cwd=..., env=..., stdout=PIPE, stderr=PIPE, remove_on_orphan=[tmp])
    ...
    children.end(popen, grace=0.0)   # idempotent: group killed (SIGTERM first if grace > 0), reaped

    with children.handling_signals():  # main thread only; elsewhere a no-op
        ...                            # raises children.Interrupted(signum) on SIGINT/SIGTERM/SIGHUP

``spawn`` takes ``subprocess.Popen``'s keyword arguments except ``start_new_session``,
``process_group``, ``preexec_fn`` and ``pass_fds``; ``popen.returncode`` is the child's (a child
killed by signal N gives -N, as with a plain ``Popen``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Final

__all__ = ["Interrupted", "end", "end_all", "handling_signals", "interrupted", "spawn"]

HANDLED_SIGNALS: Final = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

# The supervisor script, run by path with `python -I -S`: standard library only, nothing from
# site-packages or the environment, and a readable command line in `ps`.
_SUPERVISOR: Final = str(Path(__file__).resolve().parent / "_supervisor.py")


class Interrupted(BaseException):  # a BaseException like KeyboardInterrupt: not an error
    """kmsguard got SIGINT, SIGTERM or SIGHUP; its children are already being ended."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    def __str__(self) -> str:
        return signal.Signals(self.signum).name


_lock = threading.Lock()
_live: dict[int, tuple[subprocess.Popen[bytes], float]] = {}  # pgid → (process, grace)
_lifeline: tuple[int, int] | None = None
_closing = False  # set once a signal arrived: no new child may start
_signal: int | None = None


def _lifeline_fd() -> int:
    """The read end every supervisor inherits. The write end is never written, never closed, never
    inherited (``os.pipe`` descriptors are non-inheritable): only kmsguard's death closes it."""
    global _lifeline
    if _lifeline is None:
        _lifeline = os.pipe()
    return _lifeline[0]


def spawn(
    argv: Sequence[str],
    *,
    grace: float = 0.0,
    remove_on_orphan: Sequence[Path | str] = (),
    **popen_kwargs: Any,
) -> subprocess.Popen[bytes]:
    """Start ``argv`` in a process group of its own, under a supervisor tied to this process.

    ``grace`` is how long the child may take to end on SIGTERM when kmsguard dies or is interrupted
    before SIGKILL (0: SIGKILL straight away, right for the pack and the program host, which hold no
    state; the real Pulumi CLI wants a few seconds to end its own plugins). ``remove_on_orphan``
    are paths the supervisor removes if kmsguard dies without removing them itself.

    Raises ``FileNotFoundError``/``PermissionError`` like ``Popen`` when ``argv[0]`` cannot be run,
    and :class:`Interrupted` when a signal already ended the run.
    """
    for key in ("start_new_session", "process_group", "preexec_fn", "pass_fds"):
        if key in popen_kwargs:
            raise TypeError(f"spawn() sets {key} itself")
    executable = _which(argv[0], popen_kwargs.get("env"), popen_kwargs.get("cwd"))
    lifeline = _lifeline_fd()
    supervisor = [
        sys.executable,
        "-I",
        "-S",
        _SUPERVISOR,
        str(lifeline),
        repr(float(grace)),
        str(len(remove_on_orphan)),
        *map(str, remove_on_orphan),
        executable,
        *argv[1:],
    ]
    with _lock:
        if _closing:
            raise Interrupted(_signal or signal.SIGTERM)
        process: subprocess.Popen[bytes] = subprocess.Popen(  # our own argv
            supervisor, pass_fds=(lifeline,), start_new_session=True, **popen_kwargs
        )
        _live[process.pid] = (process, grace)
    return process


def _which(program: str, env: Any, cwd: Any) -> str:
    """``argv[0]`` resolved as ``execvp`` in the supervisor would, so a missing interpreter is the
    caller's ``OSError`` (as with ``Popen``), not exit code 127 from the supervisor."""
    if os.sep in program:
        path = Path(program)
        if not path.is_absolute() and cwd is not None:
            path = Path(cwd) / path
        if not path.exists():
            raise FileNotFoundError(2, "No such file or directory", program)
        if not os.access(path, os.X_OK) or path.is_dir():
            raise PermissionError(13, "Permission denied", program)
        return str(path.absolute())
    search = (env or os.environ).get("PATH", os.defpath)
    found = shutil.which(program, path=search)
    if found is None:
        raise FileNotFoundError(2, "No such file or directory", program)
    return found


def end(process: subprocess.Popen[bytes], *, grace: float | None = None) -> int:
    """End the child's process group and reap the supervisor; returns its exit code. Idempotent.

    The group is signalled before the supervisor is reaped: while it is an unreaped zombie its pid,
    which is the group id, cannot be reused by an unrelated process group.
    """
    with _lock:
        _, default_grace = _live.pop(process.pid, (process, 0.0))
    grace = default_grace if grace is None else grace
    if process.returncode is None:
        if grace > 0:
            _killpg(process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=grace)
        _killpg(process.pid, signal.SIGKILL)
    return process.wait()


def end_all() -> None:
    """SIGKILL every live child group at once (signal time: no grace for anyone, no reaping here)."""
    with _lock:
        groups = list(_live.items())
    for pgid, (process, grace) in groups:
        if process.returncode is None:
            _killpg(pgid, signal.SIGTERM if grace > 0 else signal.SIGKILL)


def _killpg(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def interrupted() -> int | None:
    """The signal that interrupted this run, if one did."""
    return _signal


@contextlib.contextmanager
def handling_signals(signals: Sequence[int] = HANDLED_SIGNALS) -> Iterator[None]:
    """While inside: SIGINT/SIGTERM/SIGHUP end every child at once and raise :class:`Interrupted`
    in the main thread (once; later signals only end children). Restores the previous handlers.

    Outside the main thread (signal handlers cannot be installed there) this does nothing.
    """
    global _closing, _signal
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    previous_wakeup = signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
    previous = {s: signal.getsignal(s) for s in signals}

    raised: list[int] = []

    def on_signal(signum: int, frame: Any) -> None:
        global _closing, _signal
        with _lock:
            _closing = True
            if _signal is None:
                _signal = signum
        end_all()
        if not raised:  # once: a second Ctrl-C must not abort the clean-up the first one started
            raised.append(signum)
            raise Interrupted(signum)

    def watcher() -> None:
        # The C-level handler writes the signal number here at once, even while the main thread is
        # stuck in C code that will only run Python handlers when it returns.
        while True:
            try:
                data = os.read(wake_r, 16)
            except OSError:
                return
            if not data:
                return
            if any(b in signals for b in data):
                global _closing, _signal
                with _lock:
                    _closing = True
                    if _signal is None:
                        _signal = data[0]
                end_all()

    thread = threading.Thread(target=watcher, name="kmsguard-signals", daemon=True)
    thread.start()
    for s in signals:
        signal.signal(s, on_signal)
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)
        signal.set_wakeup_fd(previous_wakeup)
        os.close(wake_w)  # the watcher's read returns EOF
        thread.join(timeout=1.0)
        os.close(wake_r)
        with _lock:
            _closing = False
            _signal = None
