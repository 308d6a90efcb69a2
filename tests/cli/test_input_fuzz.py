"""Random and mutated bytes in every file input of the CLI: the exit code is 0, 1 or 2, 1 only when
the report names a mandatory violation, and never a Python traceback.

Each example is a subprocess of the installed ``kmsguard`` (as CI runs it), so example counts are
small; ``preview`` examples never get past the project and stack files (the program is empty).
"""

from __future__ import annotations

import codecs
import json
import subprocess
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .support import DATA, assert_no_traceback, kmsguard

BLOCKED = (DATA / "export-blocked.json").read_bytes()
CONFIG = json.dumps({"kms-reachability": {"scope": "all-subnets"}}).encode()
EXPLAIN = sorted((DATA.parents[1] / "examples" / "networks").glob("*.json"))
PROJECT = b"name: demo\nruntime: python\n"
STACK = b"config:\n  demo:when: 2024-01-31\n  demo:list: [a, {b: c}]\n"

SETTINGS = settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def mutated(seed: bytes) -> st.SearchStrategy[bytes]:
    """``seed`` with a random edit: bytes flipped, cut, spliced with junk, re-encoded, or random bytes."""

    @st.composite
    def edit(draw: st.DrawFn) -> bytes:
        kind = draw(st.sampled_from(["flip", "cut", "splice", "utf16", "random", "aliases"]))
        data = seed
        if kind == "random":
            return draw(st.binary(max_size=300))
        if kind == "utf16":
            return codecs.BOM_UTF16_LE + data.decode("utf-8", "replace").encode("utf-16-le")
        if kind == "aliases":
            return b"a: &a [x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b, *b]\n" + data
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip":
            b = draw(st.integers(0, 255))
            return data[:at] + bytes([b]) + data[at + 1 :]
        if kind == "cut":
            return data[:at]
        junk = draw(
            st.sampled_from([b"\xff\xfe", b"\x00", b"[[[[", b"{", b'"\\ud800"', b"!!binary x", b"\xe9"])
        )
        return data[:at] + junk + data[at:]

    return edit()


def check(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode in (0, 1, 2), proc.stderr
    assert_no_traceback(proc)
    if proc.returncode == 1:
        assert "mandatory" in proc.stdout or "BLOCKED" in proc.stdout, proc.stdout
    if proc.returncode == 2:
        assert proc.stderr.strip().splitlines()[-1].startswith("kmsguard: "), proc.stderr


@SETTINGS
@given(data=mutated(BLOCKED))
def test_stack_export(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(data)
    check(kmsguard("check", str(path)))


@SETTINGS
@given(data=mutated(CONFIG))
def test_policy_config(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "config.json"
    path.write_bytes(data)
    check(kmsguard("check", str(DATA / "export-compliant.json"), "--policy-config", str(path)))


@SETTINGS
@given(project=mutated(PROJECT), stack=st.just(STACK))
def test_pulumi_yaml(tmp_path: Path, project: bytes, stack: bytes) -> None:
    _preview(tmp_path, project, stack)


@SETTINGS
@given(project=st.just(PROJECT), stack=mutated(STACK))
def test_stack_file(tmp_path: Path, project: bytes, stack: bytes) -> None:
    _preview(tmp_path, project, stack)


def _preview(tmp_path: Path, project: bytes, stack: bytes) -> None:
    (tmp_path / "Pulumi.yaml").write_bytes(project)
    (tmp_path / "Pulumi.dev.yaml").write_bytes(stack)
    (tmp_path / "__main__.py").write_text("")
    check(kmsguard("preview", str(tmp_path), "--stack", "dev", "--engine", "mocks"))


@SETTINGS
@given(data=st.sampled_from(EXPLAIN).map(Path.read_bytes).flatmap(mutated) if EXPLAIN else st.binary())
def test_explain_json(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "network.json"
    path.write_bytes(data)
    check(kmsguard("explain", str(path)))
