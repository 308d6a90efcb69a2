"""The offline providers started the way the engine starts them: the shim, a port on stdout, gRPC."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import grpc
import pytest
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

Serve = Callable[[Path, Mapping[str, str]], contextlib.AbstractContextManager[Any]]


@contextlib.contextmanager
def _serve(shim: Path, variables: Mapping[str, str]) -> Iterator[Any]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    process = subprocess.Popen(
        [str(shim), "127.0.0.1:1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd="/"
    )
    assert process.stdout is not None
    port = int(process.stdout.readline().decode().strip())
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    stub = provider_pb2_grpc.ResourceProviderStub(channel)
    stub.Configure(provider_pb2.ConfigureRequest(variables=dict(variables)), timeout=60)
    yield stub
    channel.close()
    process.terminate()
    assert process.wait(timeout=10) == 0  # SIGTERM is a clean stop


@pytest.fixture(scope="session")
def serve() -> Serve:
    """``with serve(shim, config) as stub``: a configured provider for the block's duration."""
    return _serve
