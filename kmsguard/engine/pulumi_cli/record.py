"""Read the pack's record of a real-engine run (written by ``kmsguard.pack.record``).

From it come the pack's name and policies (its ``GetAnalyzerInfo`` answer) and the resources exactly as
the engine handed them to the pack: each resource's last ``Analyze`` inputs (after the engine applied the
remediations) and its ``AnalyzeStack`` outputs, parent, dependencies and property dependencies. These are
the ``final_resources`` the stand-in's driver returns, so the same analysis feeds the reports whichever
engine ran.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi.runtime.proto import analyzer_pb2

from kmsguard.engine.driver import PackResource, PolicyInfo, _policy_info
from kmsguard.engine.wire import decode_struct
from kmsguard.errors import KmsguardError
from kmsguard.pack.record import HEADER

__all__ = ["PackRecord", "read_record"]


@dataclass(frozen=True)
class PackRecord:
    pack_name: str
    policies: tuple[PolicyInfo, ...]
    resources: tuple[PackResource, ...]  # what the last AnalyzeStack call received, with Analyze inputs
    analyze_stack_calls: int


def _messages(data: bytes, path: Path) -> list[tuple[bytes, bytes]]:
    out: list[tuple[bytes, bytes]] = []
    at = 0
    while at < len(data):
        if at + HEADER.size > len(data):
            raise KmsguardError(f"{path}: the pack's record ends inside a header")
        tag, size = HEADER.unpack_from(data, at)
        at += HEADER.size
        if at + size > len(data):
            raise KmsguardError(f"{path}: the pack's record ends inside a message")
        out.append((tag, data[at : at + size]))
        at += size
    return out


def read_record(path: Path) -> PackRecord:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KmsguardError(f"{path}: the pack wrote no record ({exc.strerror})") from None
    pack_name = ""
    policies: tuple[PolicyInfo, ...] = ()
    inputs: dict[str, dict[str, Any]] = {}
    stack: Any = None
    calls = 0
    for tag, body in _messages(data, path):
        if tag == b"I":
            info = analyzer_pb2.AnalyzerInfo.FromString(body)
            pack_name = str(info.name)
            policies = tuple(_policy_info(p) for p in info.policies)
        elif tag == b"A":
            request = analyzer_pb2.AnalyzeRequest.FromString(body)
            inputs[request.urn] = decode_struct(request.properties)
        elif tag == b"S":
            stack = analyzer_pb2.AnalyzeStackRequest.FromString(body)
            calls += 1
    resources: list[PackResource] = []
    if stack is not None:
        for r in stack.resources:
            outputs = decode_struct(r.properties)
            property_dependencies = {k: tuple(v.urns) for k, v in r.propertyDependencies.items()}
            resources.append(
                PackResource(
                    type=str(r.type),
                    urn=str(r.urn),
                    name=str(r.name),
                    inputs=inputs.get(r.urn, outputs),
                    outputs=outputs,
                    parent=str(r.parent),
                    dependencies=tuple(r.dependencies),
                    property_dependencies=property_dependencies,
                    provider_urn=str(r.provider.urn) if r.HasField("provider") else "",
                    provider_inputs=decode_struct(r.provider.properties) if r.HasField("provider") else {},
                )
            )
    return PackRecord(
        pack_name=pack_name, policies=policies, resources=tuple(resources), analyze_stack_calls=calls
    )
