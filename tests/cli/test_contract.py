"""The CLI's contract, one test per case of the issue: exit codes (0 / 1 blocked / 2 any error), one
clear first line, never a Python traceback, atomic report files, names as data, the program's output.

Every test drives the installed ``kmsguard`` as a subprocess, as CI runs it.
"""

from __future__ import annotations

import codecs
import json
import os
import resource
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from kmsguard.inputs import MAX_DEPTH

from .support import DATA, KMSGUARD, assert_no_traceback, first_error_line, kmsguard

BLOCKED = DATA / "export-blocked.json"
COMPLIANT = DATA / "export-compliant.json"
URN = "urn:pulumi:prod::network::"


def export(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"version": 3, "deployment": {"resources": list(resources)}}


def route_table(name: str, routes: list[Any], location: str = "westeurope") -> dict[str, Any]:
    inputs = {"resourceGroupName": "rg", "location": location, "routes": routes}
    return {
        "urn": f"{URN}azure-native:network:RouteTable::{name}",
        "type": "azure-native:network:RouteTable",
        "custom": True,
        "inputs": inputs,
        "outputs": inputs,
    }


def project(tmp_path: Path, program: str, stack_yaml: str = "config: {}\n", name: str = "demo") -> Path:
    (tmp_path / "Pulumi.yaml").write_text(f"name: {name}\nruntime: python\n", encoding="utf-8")
    (tmp_path / "Pulumi.dev.yaml").write_text(stack_yaml, encoding="utf-8")
    (tmp_path / "__main__.py").write_text(program, encoding="utf-8")
    return tmp_path


# --- 1. exit codes and decoding ----------------------------------------------------------------


def test_utf16_stack_export_with_bom_is_read_like_utf8(tmp_path: Path) -> None:
    # What Windows PowerShell's `pulumi stack export > state.json` writes.
    path = tmp_path / "state.json"
    path.write_bytes(codecs.BOM_UTF16_LE + BLOCKED.read_text(encoding="utf-8").encode("utf-16-le"))
    utf8 = kmsguard("check", str(BLOCKED))
    utf16 = kmsguard("check", str(path))
    assert (utf16.returncode, utf8.returncode) == (1, 1)
    assert utf16.stdout == utf8.stdout
    assert_no_traceback(utf16)


def test_utf16_policy_config_is_read(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"kms-reachability": "advisory"}), encoding="utf-16")  # BOM + UTF-16
    proc = kmsguard("check", str(BLOCKED), "--policy-config", str(cfg))
    assert proc.returncode == 0, proc.stderr  # the blocked stack's mandatory policy made advisory
    assert_no_traceback(proc)


def test_latin1_byte_in_pulumi_yaml_is_exit_2_naming_the_position(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_bytes(b"name: caf\xe9\nruntime: python\n")
    proc = kmsguard("preview", str(tmp_path), "--stack", "dev", "--engine", "mocks")
    assert proc.returncode == 2
    assert first_error_line(proc) == (
        f"kmsguard: error: {tmp_path / 'Pulumi.yaml'}: line 1 column 10: byte(s) e9 at offset 9 are "
        "not valid UTF-8; save the Pulumi project file (Pulumi.yaml) as UTF-8"
    )
    assert_no_traceback(proc)


def test_unquoted_date_in_stack_file_is_the_string_pulumi_reads(tmp_path: Path) -> None:
    program = 'import pulumi\nprint("when=" + pulumi.Config().require("when"))\n'
    project(tmp_path, program, "config:\n  demo:when: 2024-01-31\n  demo:n: 0x10\n")
    proc = kmsguard("preview", str(tmp_path), "--stack", "dev", "--engine", "mocks")
    assert proc.returncode == 0, proc.stderr
    assert "when=2024-01-31\n" in proc.stderr
    assert_no_traceback(proc)


def test_value_nested_deeper_than_the_sdk_carries_is_exit_2(tmp_path: Path) -> None:
    deep: Any = "x"
    for _ in range(400):
        deep = {"a": deep}
    path = tmp_path / "state.json"
    path.write_text(
        json.dumps(
            export(
                route_table(
                    "rt",
                    [],
                )
                | {"inputs": {"tags": deep}}
            )
        )
    )
    proc = kmsguard("check", str(path))
    assert proc.returncode == 2
    at = "deployment.resources[0].inputs.tags" + ".a" * (MAX_DEPTH - 5)
    assert first_error_line(proc) == (
        f"kmsguard: error: {path}: {at}: values are nested deeper than {MAX_DEPTH} levels, more than a "
        "policy pack can be sent; flatten the `pulumi stack export` file"
    )
    assert_no_traceback(proc)


def test_json_nested_beyond_the_parsers_recursion_is_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    proc = kmsguard("check", str(path))
    assert proc.returncode == 2
    assert first_error_line(proc) == (
        f"kmsguard: error: {path}: values are nested deeper than {MAX_DEPTH} levels, more than a policy "
        "pack can be sent; flatten the `pulumi stack export` file"
    )


def test_lone_surrogate_in_a_name_is_replaced_not_a_crash(tmp_path: Path) -> None:
    text = json.dumps(export(route_table("rt\udc80x", [])))  # json escapes it: "rt\\udc80x"
    path = tmp_path / "state.json"
    path.write_text(text, encoding="utf-8")
    for fmt in ("text", "json", "sarif", "junit", "html"):
        proc = kmsguard("check", str(path), "--format", fmt)
        assert proc.returncode == 0, (fmt, proc.stderr)
        if fmt != "sarif":  # SARIF lists results only; this stack has none
            assert "rt\ufffdx" in proc.stdout, fmt
        assert_no_traceback(proc)


def test_stdout_that_cannot_be_written_is_exit_2(tmp_path: Path) -> None:
    with open("/dev/full", "w") as full:
        run = subprocess.run(
            [str(KMSGUARD), "check", str(BLOCKED)],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    assert run.returncode == 2
    assert run.stderr == (
        "kmsguard: error: cannot write to standard output: No space left on device; write the report to a "
        "file with --output FILE\n"
    )


def test_output_to_a_device_is_written_in_place_not_renamed_over() -> None:
    proc = kmsguard("check", str(BLOCKED), "-o", "/dev/full")
    assert proc.returncode == 2
    assert (
        first_error_line(proc)
        == "kmsguard: error: /dev/full: cannot write the report: No space left on device"
    )
    assert Path("/dev/full").is_char_device()


def test_missing_interpreter_like_errors_are_exit_2_not_1(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: {name: python, options: {virtualenv: nope}}\n")
    (tmp_path / "__main__.py").write_text("")
    proc = kmsguard("preview", str(tmp_path), "--stack", "dev", "--engine", "mocks")
    assert proc.returncode == 2
    assert_no_traceback(proc)


def test_an_internal_error_is_exit_2_with_where_the_traceback_went(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # No input reaches an internal error on purpose; one is forced in-process.
    from kmsguard import cli, evaluate

    def boom(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(evaluate, "evaluate_export", boom)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    assert cli.main(["check", str(BLOCKED)]) == 2
    err = capsys.readouterr().err
    (crash,) = tmp_path.glob("kmsguard-crash-*.txt")
    assert err == (
        f"kmsguard: internal error: ZeroDivisionError: division by zero; the full traceback is in {crash}; "
        "please report it\n"
    )
    assert "Traceback (most recent call last)" in crash.read_text()


# --- 2. bounded YAML and JSON --------------------------------------------------------------------


def test_yaml_alias_bomb_in_a_stack_file_is_refused(tmp_path: Path) -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(
            f"{cur}: &{cur} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]"
        )
    bomb = "config:\n" + "".join(f"  demo:{line}\n" for line in lines)
    assert len(bomb) < 600
    project(tmp_path, "", bomb)
    # The real engine's sandbox reads the stack file through the same bounded reader, first.
    for engine in ("pulumi", "mocks"):
        proc = kmsguard("preview", str(tmp_path), "--stack", "dev", "--engine", engine, timeout=60)
        assert proc.returncode == 2
        assert_no_traceback(proc)
        assert first_error_line(proc) == (
            f"kmsguard: error: {tmp_path / 'Pulumi.dev.yaml'}: the stack file of stack 'dev' contains excessive "
            "aliasing (YAML anchors and aliases expand to more than 2001 values); write the values out or use "
            "fewer nested aliases"
        )


def test_yaml_nested_deeper_than_the_limit_is_refused(tmp_path: Path) -> None:
    project(tmp_path, "", "config:\n  demo:deep: " + "[" * 300 + "]" * 300 + "\n")
    proc = kmsguard("preview", str(tmp_path), "--stack", "dev", "--engine", "mocks")
    assert proc.returncode == 2
    assert first_error_line(proc) == (
        f"kmsguard: error: {tmp_path / 'Pulumi.dev.yaml'}: line 2: values are nested deeper than {MAX_DEPTH} "
        "levels, more than a policy pack can be sent; flatten the stack file of stack 'dev'"
    )


def test_binary_yaml_value_names_the_key(tmp_path: Path) -> None:
    project(tmp_path, "", "config:\n  demo:blob: !!binary aGVsbG8=\n")
    proc = kmsguard("preview", str(tmp_path), "--stack", "dev", "--engine", "mocks")
    assert proc.returncode == 2
    assert first_error_line(proc) == (
        f"kmsguard: error: {tmp_path / 'Pulumi.dev.yaml'}: config.demo:blob: binary data (!!binary) is not a "
        "value the stack file of stack 'dev' can hold; write it as a string, number, boolean, list or mapping"
    )


# --- 4. atomic report files ----------------------------------------------------------------------


def test_a_failed_report_write_leaves_the_previous_report_whole(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    first = kmsguard("check", str(BLOCKED), "--format", "json", "-o", str(out))
    assert first.returncode == 1
    previous = out.read_bytes()

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))

    proc = kmsguard("check", str(BLOCKED), "--format", "html", "-o", str(out), preexec_fn=small_files)
    assert proc.returncode == 2
    assert first_error_line(proc) == (
        f"kmsguard: error: {out}: cannot write the report: File too large; the previous report, if any, is "
        "unchanged"
    )
    assert out.read_bytes() == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]  # no temporary file left


# --- 5. names are data ---------------------------------------------------------------------------


def test_control_characters_in_names_are_escaped_and_junit_stays_xml(tmp_path: Path) -> None:
    name = "rt\x1b]0;pwned\x07\x01\x7f"
    route = {"name": "default", "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualNetworkGateway"}
    path = tmp_path / "state.json"
    path.write_text(json.dumps(export(route_table(name, [route]))))
    text = kmsguard("check", str(path), "--color", "always")
    assert text.returncode == 1, text.stderr  # a forced tunnel: blocked
    assert "rt\\x1b]0;pwned\\x07\\x01\\x7f" in text.stdout
    assert "\x07" not in text.stdout and "\x1b]" not in text.stdout
    junit = kmsguard("check", str(path), "--format", "junit")
    root = ET.fromstring(junit.stdout)
    # DEL is a character XML 1.0 allows; ESC, BEL and SOH are not, and are shown escaped.
    assert any("rt\\x1b]0;pwned\\x07\\x01\x7f" in (el.get("name") or "") for el in root.iter("testcase"))
    html = kmsguard("check", str(path), "--format", "html")
    assert "rt\\x1b]0;pwned\\x07\\x01\\x7f" in html.stdout and "\x1b" not in html.stdout
    js = kmsguard("check", str(path), "--format", "json")
    assert json.loads(js.stdout)["remediations"][0]["urn"].endswith(name)  # JSON keeps the name exactly


# --- 6. the program's own output -----------------------------------------------------------------

PROGRAM = """import sys
import pulumi
print("printed by the program")
print("written to stderr", file=sys.stderr)
pulumi.log.info("logged by the program")
pulumi.log.warn("warned by the program")
"""


def _engines() -> list[str]:
    from kmsguard.engine.pulumi_cli.install import find_pulumi

    return ["mocks", "pulumi"] if find_pulumi() is not None or os.environ.get("CI") == "true" else ["mocks"]


@pytest.mark.parametrize("engine", _engines())
def test_program_output_is_shown_on_success(tmp_path: Path, engine: str) -> None:
    project(tmp_path, PROGRAM)
    proc = kmsguard("preview", str(tmp_path), "--stack", "dev", "--engine", engine, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    for line in (
        "printed by the program",
        "written to stderr",
        "logged by the program",  # bare, as `pulumi preview` shows info messages
        "warning: warned by the program",
    ):
        assert line + "\n" in proc.stderr
    assert json.loads(proc.stdout)["engine"]["name"] == engine  # stdout is the report only


@pytest.mark.parametrize("engine", _engines())
def test_program_output_is_shown_on_failure(tmp_path: Path, engine: str) -> None:
    project(tmp_path, PROGRAM + "raise ValueError('bad prefix')\n")
    proc = kmsguard("preview", str(tmp_path), "--stack", "dev", "--engine", engine)
    assert proc.returncode == 2
    assert "printed by the program\n" in proc.stderr and "logged by the program\n" in proc.stderr
    assert "ValueError: bad prefix" in proc.stderr  # the program's own traceback, as today
    expected = (
        "kmsguard: error: the Pulumi program "
        if engine == "mocks"
        else "kmsguard: error: `pulumi preview` of "
    )
    assert first_error_line(proc).startswith(expected)


# --- 7. no empty reasons -------------------------------------------------------------------------


def test_unreadable_route_prefix_gives_a_reason(tmp_path: Path) -> None:
    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": 7}
    route = {
        "name": "to-fw",
        "addressPrefix": secret,
        "nextHopType": "VirtualAppliance",
        "nextHopIpAddress": "10.0.0.4",
    }
    path = tmp_path / "state.json"
    path.write_text(json.dumps(export(route_table("rt", [route]))))
    proc = kmsguard("check", str(path))
    assert proc.returncode in (0, 1), proc.stderr
    assert "goes ." not in proc.stdout
    assert (
        "KMS traffic goes wherever a route whose address prefix cannot be read here (secret, unknown during "
        "this preview, or malformed) sends it, which may be away from Internet. Add"
    ) in proc.stdout.replace("\n      ", " ")
