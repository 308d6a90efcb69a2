"""The analyzer driver against a real pulumi_policy pack (tests/fixtures/packs/sample) over gRPC.

One pack process serves most tests (module fixture); each test starts from the default config because
``Configure`` replaces the pack's whole config (pulumi_policy ``_PolicyAnalyzerServicer.Configure``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format

from kmsguard.engine import (
    UNKNOWN,
    DriveResult,
    PackProcess,
    PackResource,
    Remediation,
    Secret,
    Unknown,
    Violation,
    decode_struct,
    drive_pack,
    encode_struct,
    encode_value,
)
from kmsguard.errors import KmsguardError

SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "packs" / "sample"
PACK = "kmsguard-sample"
THING = "test:index:Thing"
SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SECRET_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
PROVIDER_URN = "urn:pulumi:stack::project::pulumi:providers:test::default_1_0_0"


def urn(name: str, type_: str = THING) -> str:
    return f"urn:pulumi:stack::project::{type_}::{name}"


def thing(name: str, **inputs: Any) -> PackResource:
    return PackResource(type=THING, urn=urn(name), name=name, inputs=inputs)


def only(violations: Any, policy: str) -> list[Violation]:
    return [v for v in violations if v.policy == policy]


@pytest.fixture(scope="module")
def running() -> Iterator[PackProcess]:
    with PackProcess(SAMPLE) as pack:
        yield pack


@pytest.fixture
def pack(running: PackProcess) -> Iterator[PackProcess]:
    running.configure({})
    yield running
    running.configure({})


# -- start-up and GetAnalyzerInfo ----------------------------------------------------------------------


def test_start_lists_policies_with_types_and_levels(pack: PackProcess) -> None:
    name, policies = pack.analyzer_info()
    assert name == PACK
    assert [(p.name, p.policy_type, p.enforcement_level) for p in policies] == [
        ("no-bad-things", "resource", "mandatory"),
        ("echo-inputs", "resource", "advisory"),
        ("size-limit", "resource", "advisory"),
        ("fix-things", "resource", "remediate"),
        ("count-resources", "stack", "advisory"),
        ("stack-echo", "stack", "advisory"),
        ("stack-graph", "stack", "advisory"),
        ("runtime-info", "stack", "advisory"),
        ("max-things", "stack", "advisory"),
        ("log-to-stderr", "stack", "advisory"),
    ]
    by_name = {p.name: p for p in policies}
    assert by_name["no-bad-things"].description == "Things must not be bad."
    assert by_name["no-bad-things"].config_schema is None
    # The schema crossed the wire as a Struct, so its numbers are floats (§1.8).
    assert by_name["max-things"].config_schema == {
        "type": "object",
        "properties": {"threshold": {"type": "integer", "minimum": 0.0, "default": 3.0}},
    }
    assert pack.startup_seconds > 0
    assert 1 <= pack.port <= 65535
    assert pack.plugin_version == "1.21.0"


# -- Analyze -------------------------------------------------------------------------------------------


def test_bad_thing_gives_one_mandatory_violation(pack: PackProcess) -> None:
    assert pack.analyze(thing("a", bad=True)) == [
        Violation(
            policy="no-bad-things",
            pack=PACK,
            level="mandatory",
            urn=urn("a"),
            message="Things must not be bad.\na has bad=true",
            description="Things must not be bad.",
            severity="",
        )
    ]


def test_good_thing_gives_no_violation(pack: PackProcess) -> None:
    assert pack.analyze(thing("g", bad=False)) == []
    assert (
        pack.analyze(PackResource("test:index:Other", urn("o", "test:index:Other"), "o", {"bad": True})) == []
    )


def test_unknown_downgrades_mandatory_policy_to_advisory(pack: PackProcess) -> None:
    # §0 key fact 3: the whole policy is replaced by one advisory diagnostic, whatever its level.
    assert pack.analyze(thing("u", bad=UNKNOWN)) == [
        Violation(
            policy="no-bad-things",
            pack=PACK,
            level="advisory",
            urn=urn("u"),
            message=(
                "can't run policy 'no-bad-things' from policy pack 'kmsguard-sample@v0.0.1' during preview: "
                "string value at .bad can't be known during preview"
            ),
            description="Things must not be bad.",
            severity="",
        )
    ]


def test_unknown_sentinel_is_what_goes_on_the_wire() -> None:
    struct = encode_struct({"size": UNKNOWN, "nested": {"list": [1, UNKNOWN]}})
    assert json_format.MessageToDict(struct) == {"size": SENTINEL, "nested": {"list": [1.0, SENTINEL]}}
    assert decode_struct(struct) == {"size": UNKNOWN, "nested": {"list": [1.0, UNKNOWN]}}
    assert decode_struct(struct)["size"] is UNKNOWN


def test_wire_keeps_typed_sentinels_and_rejects_what_the_engine_cannot_send() -> None:
    number_sentinel = "3eeb2bf0-c639-47a8-9e75-3b44932eb421"
    decoded = decode_struct(encode_struct({"n": number_sentinel}))
    assert decoded == {"n": Unknown(number_sentinel)}
    assert encode_value(decoded) == {"n": number_sentinel}
    assert encode_value({"t": (True, None, "x", 2.5)}) == {"t": [True, None, "x", 2.5]}
    with pytest.raises(KmsguardError, match=r"property \.a\.b: values of type object"):
        encode_value({"a": {"b": object()}})
    with pytest.raises(KmsguardError, match=r"property \.x: nan cannot be sent"):
        encode_value({"x": float("nan")})


def test_int_input_arrives_as_float(pack: PackProcess) -> None:
    [v] = pack.analyze(thing("f", echo=True, count=3))
    assert v.message == "Echoes the inputs it saw.\ncount=3.0 keys=count,echo"
    assert type(encode_value(3)) is float


def test_secret_round_trips(pack: PackProcess) -> None:
    struct = encode_struct({"password": Secret("hunter2")})
    assert json_format.MessageToDict(struct) == {"password": {SECRET_KEY: SECRET_SIG, "value": "hunter2"}}
    assert decode_struct(struct) == {"password": Secret("hunter2")}
    # The pack sees the plain value (§1.8).
    [v] = pack.analyze(thing("s", echo=True, password=Secret("hunter2")))
    assert v.message == "Echoes the inputs it saw.\npassword='hunter2' keys=echo,password"
    # A remediation that assigns into the props proxy keeps the secret marking (§1.5).
    [rem], _ = pack.remediate(thing("s", password=Secret("hunter2")))
    assert rem.after == {"password": Secret("hunter2"), "fixed": True}


def test_internal_keys_reach_remediate_but_not_analyze(pack: PackProcess) -> None:
    r = thing("i", echo=True, __createBeforeDelete=True)
    [rem], remediated = pack.remediate(r)
    assert rem.after == {"echo": True, "__createBeforeDelete": True, "fixed": True}
    [v] = pack.analyze(remediated)
    assert v.message == "Echoes the inputs it saw.\nfixed=True keys=echo,fixed"


# -- Remediate -----------------------------------------------------------------------------------------


def test_remediation_records_before_and_after(pack: PackProcess) -> None:
    r = thing("r", count=2, size=UNKNOWN)
    remediations, remediated = pack.remediate(r)
    # Unknowns come back as raw sentinels from Remediate (§1.5), so they survive as UNKNOWN.
    assert remediations == [
        Remediation(
            policy="fix-things",
            pack=PACK,
            urn=urn("r"),
            description="Marks every Thing as fixed.",
            before={"count": 2, "size": UNKNOWN},
            after={"count": 2.0, "size": UNKNOWN, "fixed": True},
        )
    ]
    assert remediated.inputs == {"count": 2.0, "size": UNKNOWN, "fixed": True}
    assert remediated.outputs is None
    assert pack.remediation_violations == []


def test_remediation_is_skipped_for_other_types_and_when_disabled(pack: PackProcess) -> None:
    other = PackResource("test:index:Other", urn("o", "test:index:Other"), "o", {"x": 1})
    assert pack.remediate(other) == ([], other)
    pack.configure({"fix-things": "disabled"})
    r = thing("d")
    assert pack.remediate(r) == ([], r)


def test_remediated_property_reaches_analyze_and_analyze_stack() -> None:
    explicit = PackResource(
        type=THING,
        urn=urn("b"),
        name="b",
        inputs={"echo": True, "count": 3},
        outputs={"echo": True, "count": 3, "id": UNKNOWN},
    )
    result = drive_pack(SAMPLE, [thing("a", echo=True), explicit])
    assert [(r.urn, r.after["fixed"]) for r in result.remediations] == [(urn("a"), True), (urn("b"), True)]
    assert [(v.urn, v.message) for v in only(result.violations, "echo-inputs")] == [
        (urn("a"), "Echoes the inputs it saw.\nfixed=True keys=echo,fixed"),
        (urn("b"), "Echoes the inputs it saw.\ncount=3.0 fixed=True keys=count,echo,fixed"),
    ]
    # Stack policies report against a resource's URN (§1.6); explicit outputs got the remediation too.
    assert [(v.urn, v.message) for v in only(result.violations, "stack-echo")] == [
        (urn("a"), "Echoes the outputs it saw.\nfixed=True keys=echo,fixed"),
        (urn("b"), "Echoes the outputs it saw.\ncount=3.0 fixed=True keys=count,echo,fixed,id"),
    ]
    assert result.final_resources[1].outputs == {"echo": True, "count": 3, "id": UNKNOWN, "fixed": True}
    assert not result.preview_fails


# -- drive_pack ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def preview() -> DriveResult:
    parent = PackResource("test:index:Group", urn("grp", "test:index:Group"), "grp", {})
    child = PackResource(
        type=THING,
        urn=urn("child"),
        name="child",
        inputs={"graph": True},
        parent=parent.urn,
        dependencies=(parent.urn, "urn:pulumi:stack::project::test:index:Gone::gone"),
        property_dependencies={"graph": (parent.urn,), "empty": ()},
        provider_urn=PROVIDER_URN,
        provider_inputs={"region": "westeurope", "retries": 2},
    )
    return drive_pack(SAMPLE, [thing("bad", bad=True), thing("good"), parent, child])


def test_drive_pack_preview_fails_on_mandatory(preview: DriveResult) -> None:
    assert preview.pack_name == PACK
    assert [p.name for p in preview.policies][:2] == ["no-bad-things", "echo-inputs"]
    assert [(v.policy, v.level, v.urn) for v in preview.violations if v.level == "mandatory"] == [
        ("no-bad-things", "mandatory", urn("bad"))
    ]
    assert preview.preview_fails
    assert [r.urn for r in preview.remediations] == [urn("bad"), urn("good"), urn("child")]
    assert [r.inputs.get("fixed") for r in preview.final_resources] == [True, True, None, True]


def test_drive_pack_stack_policies(preview: DriveResult) -> None:
    [count] = only(preview.violations, "count-resources")
    assert (count.message, count.level, count.urn) == (
        "Counts the resources in the stack.\n4 resources",
        "advisory",
        "",
    )
    # A dependency URN that is not in the request is dropped by pulumi_policy; empty property
    # dependencies are dropped by the engine (§1.6).
    [graph] = only(preview.violations, "stack-graph")
    assert graph.urn == urn("child")
    assert graph.message == (
        "Reports parents, dependencies and providers.\n"
        "parent=grp deps=['grp'] prop_deps={'graph': ['grp']} "
        "provider=('pulumi:providers:test', 'default_1_0_0', {'region': 'westeurope', 'retries': 2.0})"
    )
    [info] = only(preview.violations, "runtime-info")
    assert info.message == (
        "Reports the runtime settings.\n"
        "project=project stack=stack org=organization dry_run=True greeting=None tags={}"
    )
    assert only(preview.violations, "max-things") == []


def test_drive_pack_captures_stderr_and_timings(preview: DriveResult) -> None:
    assert "sample pack saw 4 resources\n" in preview.stderr
    assert set(preview.timings) >= {"start", "configure", "analyze", "analyze_stack"}
    assert all(t > 0 for t in preview.timings.values())


def test_drive_pack_good_things_pass() -> None:
    result = drive_pack(SAMPLE, [thing("g1"), thing("g2", bad=False)])
    assert not result.preview_fails
    assert only(result.violations, "no-bad-things") == []


def test_drive_pack_update_settings_and_early_stop() -> None:
    settings: dict[str, Any] = {"project": "proj", "stack": "dev", "organization": "acme", "dry_run": False}
    ok = drive_pack(
        SAMPLE, [thing("g")], config={"sample:greeting": "hi"}, stack_tags={"team": "net"}, **settings
    )
    [info] = only(ok.violations, "runtime-info")
    assert info.message == (
        "Reports the runtime settings.\n"
        "project=proj stack=dev org=acme dry_run=False greeting=hi tags={'team': 'net'}"
    )
    # In `up` a mandatory resource violation stops the deployment; AnalyzeStack is skipped (§1.3).
    stopped = drive_pack(SAMPLE, [thing("bad", bad=True), thing("later")], **settings)
    assert [v.policy for v in stopped.violations] == ["no-bad-things"]
    assert [r.name for r in stopped.final_resources] == ["bad"]


# -- Configure -----------------------------------------------------------------------------------------


def test_configure_lowers_mandatory_to_advisory(pack: PackProcess) -> None:
    pack.configure({"no-bad-things": "advisory"})
    assert [(v.policy, v.level) for v in pack.analyze(thing("a", bad=True))] == [
        ("no-bad-things", "advisory")
    ]


def test_configure_disabled_silences_policy(pack: PackProcess) -> None:
    pack.configure({"no-bad-things": {"enforcementLevel": "disabled"}})
    assert pack.analyze(thing("a", bad=True)) == []


def test_configure_all_sets_every_level(pack: PackProcess) -> None:
    pack.configure({"all": "mandatory"})
    [v] = pack.analyze(thing("e", echo=True))
    assert (v.policy, v.level) == ("echo-inputs", "mandatory")


def test_configure_passes_properties_and_schema_defaults(pack: PackProcess) -> None:
    things = [thing(f"t{i}") for i in range(4)]
    # The schema default (3) is filled in by the engine and reaches the pack as a float.
    [v] = only(pack.analyze_stack(things), "max-things")
    assert v.message == "Limits the number of Things.\n4 Things exceed threshold 3.0"
    pack.configure({"max-things": {"threshold": 1}})
    [v] = only(pack.analyze_stack(things[:2]), "max-things")
    assert (v.message, v.level, v.urn) == (
        "Limits the number of Things.\n2 Things exceed threshold 1.0",
        "advisory",
        "",
    )
    pack.configure({"max-things": {"enforcementLevel": "mandatory", "threshold": 5}})
    assert only(pack.analyze_stack(things), "max-things") == []


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"max-things": {"threshold": "many"}},
            "validating policy config: kmsguard-sample: max-things: threshold: "
            "Invalid type. Expected: integer, given: string",
        ),
        (
            {"max-things": {"threshold": -1}},
            "validating policy config: kmsguard-sample: max-things: threshold: "
            "Must be greater than or equal to 0",
        ),
        (
            {"no-bad-things": "loud"},
            'parsing enforcement level for "no-bad-things": "loud" is not a valid enforcement level',
        ),
        (
            {"no-bad-things": 3},
            'parsing "no-bad-things": 3 is not a valid value; must be a string or object',
        ),
    ],
)
def test_configure_rejects_invalid_config(pack: PackProcess, config: dict[str, Any], message: str) -> None:
    pack.configure({"no-bad-things": "advisory"})
    with pytest.raises(KmsguardError) as info:
        pack.configure(config)
    assert str(info.value) == message
    # Nothing was sent: the previous config is still in force.
    assert [v.level for v in pack.analyze(thing("a", bad=True))] == ["advisory"]


def test_configure_rejects_unknown_policy_name(pack: PackProcess) -> None:
    with pytest.raises(KmsguardError) as info:
        pack.configure({"no-such-policy": "advisory"})
    assert str(info.value).startswith(
        "policy pack config for kmsguard-sample: no policy named 'no-such-policy'"
    )


# -- start-up failures ---------------------------------------------------------------------------------


def _write_pack(directory: Path, main: str, yaml: str = "runtime: python\n") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "PulumiPolicy.yaml").write_text(yaml)
    (directory / "__main__.py").write_text(main)
    return directory


def test_startup_failure_reports_pack_traceback(tmp_path: Path) -> None:
    broken = _write_pack(tmp_path / "broken", "raise RuntimeError('boom from the pack')\n")
    with pytest.raises(KmsguardError) as info:
        PackProcess(broken).start()
    text = str(info.value)
    assert "failed to start: exited with code 1 before printing a port" in text
    assert "Traceback (most recent call last)" in text
    assert "RuntimeError: boom from the pack" in text


def test_startup_timeout_is_reported(tmp_path: Path) -> None:
    silent = _write_pack(
        tmp_path / "silent", "import sys, time\nprint('warming up', file=sys.stderr)\ntime.sleep(60)\n"
    )
    # Long enough for the interpreter to start and print on a loaded machine; the pack never prints a port.
    with pytest.raises(KmsguardError) as info, PackProcess(silent, startup_timeout=5.0):
        pass
    assert "failed to start: no port printed within 5s" in str(info.value)
    assert "warming up" in str(info.value)


def test_virtualenv_option_selects_the_pack_interpreter(tmp_path: Path) -> None:
    main = (SAMPLE / "__main__.py").read_text()
    pack_dir = _write_pack(
        tmp_path / "venv-pack", main, "runtime:\n  name: python\n  options:\n    virtualenv: venv\n"
    )
    wrapper = pack_dir / "venv" / "bin" / "python"
    wrapper.parent.mkdir(parents=True)
    wrapper.write_text(f'#!/bin/sh\necho "venv python: $VIRTUAL_ENV" >&2\nexec {sys.executable} "$@"\n')
    wrapper.chmod(0o755)
    with PackProcess(pack_dir) as p:
        assert p.analyzer_info()[0] == PACK
    assert f"venv python: {pack_dir / 'venv'}" in p.stderr


def test_not_a_policy_pack(tmp_path: Path) -> None:
    with pytest.raises(KmsguardError, match=r"PulumiPolicy\.yaml not found"):
        PackProcess(tmp_path).start()
