"""``pulumi-language-python`` as the CLI starts it: ``<shim> [flags] <engine address>``.

main.go's ``main``: Go-style flags (``-flag value`` or ``--flag=value``), the engine address as the one
positional argument (pkg/resource/plugin/langruntime_plugin.go ``buildArgsForNewPlugin``), a gRPC server on
``127.0.0.1:0`` whose port is the first line on stdout, and an engine health check every five minutes
that stops the host once the engine is gone (rpcutil.Healthcheck). ``-use-executor`` names the
``pulumi-language-python-exec`` script (the Go host otherwise looks next to its own binary, which a Python
process cannot do: the shim passes it). ``-plugin-version`` is kmsguard's own flag: the version to report
from ``GetPluginInfo`` (the Go binary has it compiled in).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from concurrent import futures
from types import FrameType
from typing import Final

import grpc
from pulumi.runtime.proto import language_pb2_grpc

from .server import HostConfig, LanguageHost

# rpcutil/serve.go maxRPCMessageSize: the CLI may send large requests (e.g. config, resource snapshots).
_MAX_MESSAGE: Final = 400 * 1024 * 1024
_HEALTH_INTERVAL: Final = 300.0  # seconds; Healthcheck(ctx, engineAddress, 5*time.Minute, cancel)
# grpc.health.v1.HealthCheckResponse{status: SERVING}, written by hand: grpc_health is not a dependency.
_SERVING: Final = b"\x08\x01"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pulumi-language-python", allow_abbrev=False)

    def flag(name: str, help_text: str, default: str = "") -> None:
        # Go's flag package accepts one or two dashes.
        parser.add_argument(f"-{name}", f"--{name}", default=default, help=help_text)

    flag("tracing", "Emit tracing to a Zipkin-compatible tracing endpoint")
    flag("virtualenv", "[obsolete] Virtual environment path to use")
    flag("root", "[obsolete] Project root path to use")
    flag("typechecker", "[obsolete] Use a typechecker to type check")
    flag("toolchain", "[obsolete] Select the package manager to use for dependency management.", "pip")
    flag("use-executor", "Use the given program as the executor (pulumi-language-python-exec)")
    flag("plugin-version", "The version GetPluginInfo reports (kmsguard)")
    parser.add_argument("engine", nargs="?", default="", help="the engine's gRPC address")
    parser.add_argument("rest", nargs="*", help=argparse.SUPPRESS)
    return parser


def _engine_alive(address: str) -> bool:
    """One grpc.health.v1 Check; UNIMPLEMENTED counts as alive, as in rpcutil.Healthcheck."""
    with grpc.insecure_channel(address) as channel:
        check = channel.unary_unary("/grpc.health.v1.Health/Check")
        try:
            check(b"", timeout=30)
        except grpc.RpcError as error:
            return bool(error.code() == grpc.StatusCode.UNIMPLEMENTED)
    return True


class _HealthWatch:
    """Stops the server once the engine stops answering (a CLI killed hard leaves no one to stop us)."""

    def __init__(self, stop: threading.Event) -> None:
        self._stop = stop
        self._started: set[str] = set()
        self._lock = threading.Lock()

    def watch(self, address: str) -> None:
        with self._lock:
            if address in self._started:
                return
            self._started.add(address)
        threading.Thread(target=self._loop, args=(address,), daemon=True).start()

    def _loop(self, address: str) -> None:
        while not self._stop.wait(_HEALTH_INTERVAL):
            if not _engine_alive(address):
                self._stop.set()
                return


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    executor: str = args.use_executor
    if not executor or not os.path.exists(executor):
        # main.go: "missing executor <path>" (cmdutil.Exit prints to stderr, exit status 1).
        print(f"error: missing executor {executor or 'pulumi-language-python-exec'}", file=sys.stderr)
        return 1

    stop = threading.Event()
    health = _HealthWatch(stop)
    config = HostConfig(
        executor=os.path.abspath(executor),
        engine_address=args.engine,
        tracing=args.tracing,
        version=args.plugin_version,
    )
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=32, thread_name_prefix="langhost"),
        options=[
            ("grpc.max_receive_message_length", _MAX_MESSAGE),
            ("grpc.max_send_message_length", _MAX_MESSAGE),
        ],
    )
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(LanguageHost(config, health.watch), server)
    # rpcutil.Serve registers the health service next to the plugin's own.
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                "grpc.health.v1.Health",
                {"Check": grpc.unary_unary_rpc_method_handler(lambda request, context: _SERVING)},
            ),
        )
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    # The CLI reads the first line of stdout as the port (pkg/resource/plugin/plugin.go newPlugin).
    print(port, flush=True)

    def interrupted(signum: int, frame: FrameType | None) -> None:
        # signal.NotifyContext(os.Interrupt): the CLI interrupts its plugins before killing them.
        stop.set()

    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    if args.engine:
        health.watch(args.engine)
    while not stop.wait(1.0):
        pass
    # Stopping cancels the RPCs in flight, whose callbacks kill the programs and plugins they started.
    server.stop(grace=None).wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
