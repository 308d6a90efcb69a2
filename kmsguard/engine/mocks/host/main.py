"""Run one Pulumi program under mocks in preview mode and write what the engine would have seen.

Usage (by the runner only): ``python -c <bootstrap> SPEC.json``. The spec names the project, stack,
project directory, program path, working directory, config and the result file. The result file gets
``{"records": [...], "error": null | {"kind", "message", "traceback"}, "timings": {...}}``.

The program runs as the real language host runs it (pulumi-mechanics §2.5): config set first, then
``runpy.run_path(program, run_name="__main__")`` inside ``run_pulumi_func``, which returns only after every
registration and every outstanding output has finished and re-raises the program's exception.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib.abc
import importlib.util
import json
import os
import runpy
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

_HOST_DIR = Path(__file__).resolve().parent


class _InlineExecutor(concurrent.futures.ThreadPoolExecutor):
    """Runs the SDK's monitor calls on the event loop's thread, one at a time, in the order the program's
    registrations reach them. The mock monitor answers at once, so nothing is lost by not using threads, and
    the registration order no longer depends on thread timing (deterministic output)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the awaiting SDK code, as a thread pool would
            future.set_exception(exc)
        return future


class _ImportClock(importlib.abc.MetaPathFinder):
    """Wall time spent executing ``pulumi_azure_native`` modules (outermost imports only).

    The SDK loads its submodules lazily on attribute access, not through import statements, so the clock
    wraps the loaders of those modules rather than ``__import__``.
    """

    def __init__(self) -> None:
        self.seconds = 0.0
        self._depth = 0
        self._finding = False

    def __enter__(self) -> _ImportClock:
        sys.meta_path.insert(0, self)
        return self

    def __exit__(self, *exc: object) -> None:
        if self in sys.meta_path:
            sys.meta_path.remove(self)

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        # Inside a timed import, nested modules are already on the clock: leave them to the usual finders.
        if self._finding or self._depth or not fullname.startswith("pulumi_azure_native"):
            return None
        self._finding = True
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            self._finding = False
        loader = getattr(spec, "loader", None)
        if spec is None or loader is None or not hasattr(loader, "exec_module"):
            return spec
        original = loader.exec_module

        def exec_module(module: Any) -> None:
            self._depth += 1
            began = time.perf_counter()
            try:
                original(module)
            finally:
                self._depth -= 1
                if not self._depth:
                    self.seconds += time.perf_counter() - began

        spec.loader = _TimedLoader(loader, exec_module)
        return spec


class _TimedLoader(importlib.abc.Loader):
    def __init__(self, inner: Any, exec_module: Callable[[Any], None]) -> None:
        self._inner = inner
        self._exec = exec_module

    def create_module(self, spec: Any) -> Any:
        return self._inner.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self._exec(module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _in_project(filename: str, project_dir: Path) -> bool:
    if not os.path.isabs(filename):  # "<frozen runpy>", "<string>": not a file of the program
        return False
    try:
        rel = Path(filename).resolve().relative_to(project_dir)
    except (ValueError, OSError):
        return False
    return "site-packages" not in rel.parts and "dist-packages" not in rel.parts


def program_traceback(exc: BaseException, project_dir: Path) -> str:
    """The program's own traceback: frames from the first one in the project on, without the runner's."""
    summary = traceback.TracebackException.from_exception(exc)
    frames = list(summary.stack)
    first = next((i for i, f in enumerate(frames) if _in_project(f.filename, project_dir)), None)
    if first is not None:
        frames = frames[first:]
    else:
        frames = [f for f in frames if not Path(f.filename).resolve().is_relative_to(_HOST_DIR)]
    summary.stack = traceback.StackSummary.from_list(frames)
    return "".join(summary.format())


def main(spec_path: str) -> int:
    host_started = time.time()
    with open(spec_path, encoding="utf-8") as handle:
        spec = json.load(handle)
    project_dir = Path(spec["project_dir"]).resolve()
    program = str(spec["program"])
    timings: dict[str, float] = {"host_started": host_started}

    began = time.perf_counter()
    try:
        import pulumi.runtime
    except ImportError as exc:
        # The language host prints the same advice when the program's environment lacks the SDK.
        message = (
            f"the interpreter {sys.executable} cannot import pulumi ({exc}); install the program's "
            "requirements into it, or run the program with the project's virtualenv"
        )
        _write(spec["result"], [], {"kind": "environment", "message": message, "traceback": ""}, timings)
        return 0
    from pulumi.runtime.mocks import set_mocks
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    from .monitor import NullMocks, RecordingMonitor

    timings["import_pulumi"] = time.perf_counter() - began

    # sys.path as under the real language host: no runner directory; the program's directory first.
    sys.path[:] = [p for p in sys.path if p not in ("", str(_HOST_DIR))]
    if Path(program).is_file():
        sys.path.insert(0, str(Path(program).parent))

    config: dict[str, str] = dict(spec["config"])
    pulumi.runtime.set_all_config(config, list(spec["secret_keys"]))

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.set_default_executor(_InlineExecutor(max_workers=1))

    monitor = RecordingMonitor(
        project=spec["project"],
        stack=spec["stack"],
        project_dir=project_dir,
        config=config,
        run_async=_sync_await,
    )
    _record_classes(monitor.classes)
    set_mocks(
        NullMocks(),
        project=spec["project"],
        stack=spec["stack"],
        preview=True,
        logger=_program_logger(),
        monitor=monitor,
        organization=spec.get("organization") or None,
    )

    os.chdir(spec["cwd"])
    sys.argv = [program]
    error: dict[str, Any] | None = None
    began = time.perf_counter()
    with _ImportClock() as clock:
        try:
            loop.run_until_complete(run_pulumi_func(lambda: _run_path(program)))
            loop.run_until_complete(_record_exports(monitor))
        except BaseException as exc:  # the program's failure is the result, not a crash of the host
            error = _failure(exc, monitor.error, project_dir)
            if error is not None and error["kind"] in ("program", "engine") and monitor.invokes:
                # Both engines answer an invoke with an empty result (kmsguard/provider): every field
                # of its result is None, in the plain and the *_output form alike.
                note = (
                    f"\n(an offline preview cannot ask Azure: these invokes returned no data, every field None: "
                    f"{', '.join(monitor.invokes)}; give the program those values from its config)"
                )
                if error["kind"] == "engine":
                    error["note"] = note  # after the refused registration's place
                else:
                    error["message"] += note
                    error["traceback"] += note.lstrip("\n") + "\n"
    if error is None and monitor.error is not None:
        # A refused registration fails the preview even if the program went on without it.
        error = _failure(RuntimeError("registration failed"), monitor.error, project_dir)
    timings["program"] = time.perf_counter() - began
    timings["import_azure_native"] = clock.seconds
    timings["transforms"] = monitor.transform_seconds
    sys.stdout.flush()
    sys.stderr.flush()

    _write(spec["result"], monitor.records, error, timings)
    return 0


def _program_logger() -> Any:
    """pulumi.log.* as `pulumi preview` shows it (info bare, "warning: …", "error: …"; debug only with
    --debug): the mock engine otherwise logs to the root logger, which drops info and shows warnings
    without their severity."""
    import logging

    class _Format(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            severity = {"WARNING": "warning", "CRITICAL": "error"}.get(
                record.levelname, record.levelname.lower()
            )
            # `pulumi preview` prints info messages bare, as it prints the program's own output.
            return record.getMessage() if severity == "info" else f"{severity}: {record.getMessage()}"

    logger = logging.getLogger("pulumi-program")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Format())
    logger.handlers[:] = [handler]
    return logger


def _write(path: str, records: list[Any], error: dict[str, Any] | None, timings: dict[str, float]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"records": records, "error": error, "timings": timings}, handle)


def _failure(
    exc: BaseException, monitor_error: BaseException | None, project_dir: Path
) -> dict[str, Any] | None:
    """What to report for an exception that ended the run: the runner's own failure, or the program's."""
    from .monitor import EngineError, TransformError

    if isinstance(monitor_error, EngineError):
        # The engine's own refusal (a duplicate URN): the preview fails with its message, whatever the
        # program did with the failed registration afterwards.
        return {"kind": "engine", "message": str(monitor_error), "source": monitor_error.source}
    if monitor_error is not None and not isinstance(monitor_error, TransformError):
        return {
            "kind": "runner",
            "message": f"{type(monitor_error).__name__}: {monitor_error}",
            "traceback": "".join(traceback.format_exception(monitor_error)),
        }
    if isinstance(exc, SystemExit) and exc.code in (0, None):
        return None  # the program ended itself successfully; what it registered stands
    shown = exc.original if isinstance(exc, TransformError) else exc
    prefix = f"{exc}: " if isinstance(exc, TransformError) else ""
    return {
        "kind": "program",
        "message": prefix + "".join(traceback.format_exception_only(shown)).strip(),
        "traceback": (f"{exc}:\n" if prefix else "") + program_traceback(shown, project_dir),
    }


async def _record_exports(monitor: Any) -> None:
    """The root stack's outputs are the program's exports (AnalyzeStack sees them). Under mocks the stack
    is finished before the program runs, so its exports are never registered: serialize them here."""
    from _kmsguard_provider.wire import struct_to_dict as struct_to_json
    from pulumi.runtime.rpc import serialize_properties
    from pulumi.runtime.settings import get_root_resource
    from pulumi.runtime.stack import massage

    from .monitor import analyzer_view

    root = get_root_resource()
    exports = dict(getattr(root, "outputs", None) or {})
    if not exports or not monitor.records or monitor.records[0]["type"] != "pulumi:pulumi:Stack":
        return
    struct = await serialize_properties(massage(exports, []), {})
    monitor.records[0]["outputs"] = analyzer_view(struct_to_json(struct))


def _run_path(program: str) -> None:
    runpy.run_path(program, run_name="__main__")


def _record_classes(classes: dict[str, type]) -> None:
    """Remember the Python class behind each custom resource type: its SDK metadata gives the shapes."""
    import pulumi.resource

    resource_module: Any = pulumi.resource

    original = resource_module.register_resource

    def register_resource(res: Any, ty: str, name: str, custom: bool, *args: Any, **kwargs: Any) -> Any:
        if custom:
            classes.setdefault(ty, type(res))
        return original(res, ty, name, custom, *args, **kwargs)

    resource_module.register_resource = register_resource

    original_read = resource_module.read_resource

    def read_resource(res: Any, ty: str, *args: Any, **kwargs: Any) -> Any:
        classes.setdefault(ty, type(res))
        return original_read(res, ty, *args, **kwargs)

    resource_module.read_resource = read_resource
