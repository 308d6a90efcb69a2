"""Serve an offline provider: ``python -m kmsguard.provider [--kmsguard-package=azure] [ENGINE_ADDRESS] [flags]``.

``--kmsguard-package=NAME`` (the shim's, before the engine's arguments) picks the package served:
``azure-native`` (the default) or the classic ``azure``.

The engine starts a resource plugin with the engine's address as first argument (plus logging/tracing
flags) and reads the port it listens on from the first line of its stdout (the pattern of
``pulumi/dynamic/__main__.py`` in the Python SDK). The engine ends a plugin by killing it: SIGTERM and
SIGINT stop the server, and so does the parent going away (the plugin is then reparented), so no
orphan outlives a crashed CLI.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from concurrent import futures
from typing import Any

import grpc
from pulumi.runtime.proto import provider_pb2_grpc

from .server import PACKAGE, provider_for

# As in pulumi/dynamic/__main__.py: large property bags must fit.
_GRPC_OPTIONS = [("grpc.max_receive_message_length", 400 * 1024 * 1024)]


def _engine_address(argv: list[str]) -> str:
    """The first positional argument; flags (``--logtostderr``, ``-v=9``, ``--tracing X``) are ignored."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in ("--tracing", "--root"):
            skip = True
            continue
        if arg.startswith("-"):
            continue
        return arg
    return ""


_PACKAGE_FLAG = "--kmsguard-package="


def _package(argv: list[str]) -> tuple[str, list[str]]:
    """The package named by ``--kmsguard-package=NAME`` (default azure-native) and the other arguments."""
    package = PACKAGE
    rest: list[str] = []
    for arg in argv:
        if arg.startswith(_PACKAGE_FLAG):
            package = arg[len(_PACKAGE_FLAG) :]
        else:
            rest.append(arg)
    return package, rest


def main(argv: list[str] | None = None, *, package: str | None = None) -> int:
    named, args = _package(list(sys.argv[1:] if argv is None else argv))
    servicer = provider_for(package or named, engine_address=_engine_address(args))
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=_GRPC_OPTIONS)
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()

    stop = threading.Event()

    def _on_signal(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    parent = os.getppid()
    while not stop.wait(1.0):
        if os.getppid() != parent:  # the engine went away without stopping us
            break
    server.stop(grace=0.5).wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
