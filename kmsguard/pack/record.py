"""The pack's side of the real engine's detail channel.

With the real Pulumi CLI, the engine decides the outcome (its policy events and exit status); the
per-subnet traces and fixes of the reports come from analysing the very resources the engine handed the
pack. The pack appends each request it is given — and its analyzer info — to the file named by
``KMSGUARD_PACK_RECORD``, as length-prefixed protobuf messages; ``kmsguard.engine.pulumi_cli.record``
reads them back. Only kmsguard's own runs set the variable: a plain ``pulumi preview`` records nothing.
"""

from __future__ import annotations

import functools
import struct
import threading
from collections.abc import Callable
from typing import Any, BinaryIO

from kmsguard.policies.servicer import servicer_class

# One tag byte per record kind, then a 4-byte big-endian length, then the serialized message.
# Remediate is not recorded: the engine's events say what it applied, and Analyze sees the result.
TAGS = {"GetAnalyzerInfo": b"I", "Analyze": b"A", "AnalyzeStack": b"S"}
HEADER = struct.Struct(">cI")


def record_requests(path: str) -> bool:
    """Record every Analyze/AnalyzeStack request and the GetAnalyzerInfo response to ``path``.
    ``False`` if the SDK has no servicer class to wrap (the run then has no details, and says so)."""
    servicer = servicer_class()
    if servicer is None:
        return False
    sink: BinaryIO = open(path, "ab")  # noqa: SIM115 - lives as long as the pack process
    lock = threading.Lock()

    def write(tag: bytes, message: Any) -> None:
        data = message.SerializeToString()
        with lock:
            sink.write(HEADER.pack(tag, len(data)) + data)
            sink.flush()

    for rpc, tag in TAGS.items():
        method: Callable[..., Any] = getattr(servicer, rpc)
        setattr(servicer, rpc, _recording(method, tag, write, response=rpc == "GetAnalyzerInfo"))
    return True


def _recording(
    method: Callable[..., Any], tag: bytes, write: Callable[[bytes, Any], None], *, response: bool
) -> Callable[..., Any]:
    @functools.wraps(method)  # keeps the markers of the call-scope wrappers installed after this one
    def wrapped(self: Any, request: Any, context: Any) -> Any:
        if not response:
            write(tag, request)
        result = method(self, request, context)
        if response:
            write(tag, result)
        return result

    return wrapped
