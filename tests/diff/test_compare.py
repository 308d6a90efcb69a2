"""kmsguard diff on JSON reports built directly: matching, classification, JSON, text, exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from kmsguard import diff
from kmsguard.cli import main
from kmsguard.report import sarif

from .reports import FIX, IPS, report, subnet, urn, violation

SCHEMA = json.loads(diff.DIFF_SCHEMA.read_text(encoding="utf-8"))
SARIF_SCHEMA = json.loads(
    (Path(__file__).resolve().parent.parent / "data" / "sarif-2.1.0.schema.json").read_text(encoding="utf-8")
)
FORCED = "route table rt-app route default: 0.0.0.0/0 → VirtualNetworkGateway (selected for 20.118.99.224)"
NSG = "NSG nsg-web rule 200 deny-kms: denied"


def pr() -> tuple[dict[str, Any], dict[str, Any]]:
    """A base and a head with one subnet of each kind of change."""
    vnet_a = urn("vnet-a", "VirtualNetwork")
    base = report(
        [
            subnet("snet-app", "reachable"),
            subnet("snet-data", "blocked"),
            subnet("snet-legacy", "reachable"),
            subnet("snet-mgmt", "blocked"),
            subnet("vnet-a/one", "reachable", vnet="vnet-a", subnet_urn=vnet_a),
            subnet("vnet-a/two", "unknown", vnet="vnet-a", subnet_urn=vnet_a),
        ]
    )
    app = subnet("snet-app", "blocked")
    web = subnet("snet-web", "blocked", fixes=[])
    head = report(
        [
            app,
            subnet("snet-data", "reachable"),
            subnet("snet-batch", "reachable"),
            subnet("snet-mgmt", "blocked"),
            web,
            subnet("snet-ops", "reachable"),
            # Inline subnets share their VNet's URN: told apart by name, whatever their order.
            subnet("vnet-a/two", "unknown", vnet="vnet-a", subnet_urn=vnet_a),
            subnet("vnet-a/one", "reachable", vnet="vnet-a", subnet_urn=vnet_a),
        ],
        [violation(app, [FORCED]), violation(web, [NSG, "NSG nsg-web rule 300: denied"])],
    )
    return base, head


def validate(doc: Any) -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)


def test_the_diff_schema_is_a_valid_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_every_kind_of_change_exact_json() -> None:
    base, head = pr()
    doc = diff.document(diff.compare(base, head))
    validate(doc)
    assert doc["base"] == {"project": "net", "stack": "dev", "blocked": False}
    assert doc["head"] == {"project": "net", "stack": "dev", "blocked": True}
    assert doc["regressed"] is True
    assert [(c["subnet"], c["before"], c["after"], c["change"]) for c in doc["changes"]] == [
        ("snet-app", "reachable", "blocked", "regressed"),
        ("snet-data", "blocked", "reachable", "improved"),
        ("snet-batch", None, "reachable", "added"),
        ("snet-mgmt", "blocked", "blocked", "unchanged"),
        ("snet-web", None, "blocked", "added"),
        ("snet-ops", None, "reachable", "added"),
        ("vnet-a/two", "unknown", "unknown", "unchanged"),
        ("vnet-a/one", "reachable", "reachable", "unchanged"),
        ("snet-legacy", "reachable", None, "removed"),
    ]
    assert doc["changes"][0] == {
        "subnet": "snet-app",
        "urn": urn("snet-app"),
        "vnet": "vnet",
        "before": "reachable",
        "after": "blocked",
        "change": "regressed",
        "endpoints": [
            {"fqdn": fqdn, "ip": ip, "before": "reachable", "after": "blocked"} for fqdn, ip in IPS
        ],
        "blockers": [FORCED],
        "fixes": [FIX],
    }
    # An added blocked subnet carries its blockers too; improved, unchanged and removed ones none.
    assert (doc["changes"][4]["blockers"], doc["changes"][4]["fixes"]) == (
        [NSG, "NSG nsg-web rule 300: denied"],
        [],
    )
    assert all(
        c["blockers"] == [] and c["fixes"] == [] for i, c in enumerate(doc["changes"]) if i not in (0, 4)
    )
    assert doc["changes"][-1]["endpoints"] == [
        {"fqdn": fqdn, "ip": ip, "before": "reachable", "after": None} for fqdn, ip in IPS
    ]
    assert doc["changes"][2]["endpoints"][0] == {
        "fqdn": "azkms.core.windows.net",
        "ip": "20.118.99.224",
        "before": None,
        "after": "reachable",
    }
    # Both new mandatory violations are those of failing subnets, which already say why.
    assert doc["violations"] == []


@pytest.mark.parametrize(
    ("before", "after", "change", "fails"),
    [
        ("reachable", "unknown", "regressed", True),
        ("reachable", "blocked", "regressed", True),
        ("unknown", "blocked", "regressed", True),
        ("excluded", "blocked", "regressed", True),
        ("blocked", "unknown", "improved", False),
        ("unknown", "reachable", "improved", False),
        ("blocked", "excluded", "improved", False),
        ("reachable", "excluded", "unchanged", False),
        ("blocked", "blocked", "unchanged", False),
    ],
)
def test_verdict_ranks(before: str, after: str, change: str, fails: bool) -> None:
    d = diff.compare(report([subnet("s", before)]), report([subnet("s", after)]))
    (c,) = d.changes
    assert (c.change.value, c.fails, d.regressed) == (change, fails, fails)


def test_an_endpoint_lost_inside_a_blocked_subnet_is_a_regression() -> None:
    base = report([subnet("s", "blocked", endpoints=["blocked", "reachable", "reachable"])])
    head = report([subnet("s", "blocked", endpoints=["blocked", "blocked", "reachable"])])
    d = diff.compare(base, head)
    (c,) = d.changes
    assert (c.change, d.regressed) == (diff.Change.REGRESSED, True)
    assert diff.verdict_change(c) == "blocked → blocked (40.83.235.53: reachable → blocked)"
    # ...and one regained is an improvement.
    (back,) = diff.compare(head, base).changes
    assert back.change is diff.Change.IMPROVED


@pytest.mark.parametrize(
    ("after", "fails"), [("blocked", True), ("unknown", True), ("reachable", False), ("excluded", False)]
)
def test_an_added_subnet_fails_unless_it_passes(after: str, fails: bool) -> None:
    d = diff.compare(report([]), report([subnet("snet-new", after)]))
    (c,) = d.changes
    assert (c.change, c.fails, d.regressed) == (diff.Change.ADDED, fails, fails)


def test_an_added_unknown_subnet_headline_and_exit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = report([subnet("s", "reachable")])
    head = report([subnet("s", "reachable"), subnet("snet-new", "unknown")])
    d = diff.compare(base, head)
    assert diff.headline(d) == (
        "this change breaks Windows activation: 1 new subnet(s) unknown (1 added, 1 unchanged)"
    )
    assert main(["diff", str(write(tmp_path, "b.json", base)), str(write(tmp_path, "h.json", head))]) == 1


def nic(name: str, verdicts: list[str]) -> dict[str, Any]:
    return {
        "name": name,
        "urn": urn(name, "NetworkInterface"),
        "verdict": "blocked" if "blocked" in verdicts else verdicts[0],
        "endpoints": [
            {"fqdn": fqdn, "ip": ip, "verdict": v, "trace": []}
            for (fqdn, ip), v in zip(IPS, verdicts, strict=True)
        ],
    }


def test_a_nic_that_loses_kms_inside_a_blocked_subnet_is_a_regression() -> None:
    # The subnet is blocked on both sides; in the head one VM's NIC gets its own deny on the endpoint
    # the subnet still reaches. Before, the NIC was on the subnet's path (left out of the report).
    own = ["blocked", "reachable", "reachable"]
    base = report([subnet("s", "blocked", endpoints=own)])
    head_subnet = {**subnet("s", "blocked", endpoints=own), "nics": [nic("vm1-nic", ["blocked"] * 3)]}
    d = diff.compare(base, report([head_subnet]))
    (c,) = d.changes
    assert (c.change, d.regressed) == (diff.Change.REGRESSED, True)
    assert diff.verdict_change(c) == (
        "blocked → blocked (vm1-nic 40.83.235.53: reachable → blocked; vm1-nic 23.102.135.246: reachable → blocked)"
    )
    doc = diff.document(d)
    validate(doc)
    assert doc["changes"][0]["endpoints"][3:] == [
        {"fqdn": fqdn, "ip": ip, "before": "reachable", "after": "blocked", "nic": "vm1-nic"}
        for fqdn, ip in IPS[1:]
    ]
    # The NIC's deny removed again: an improvement, the NIC compared with its subnet's path.
    (back,) = diff.compare(report([head_subnet]), base).changes
    assert back.change is diff.Change.IMPROVED
    # The same NIC on both sides with the same verdicts: nothing moved.
    (same,) = diff.compare(report([head_subnet]), report([head_subnet])).changes
    assert (same.change, same.endpoints[3:]) == (diff.Change.UNCHANGED, ())


def activation(vm: str) -> dict[str, Any]:
    return {
        "policy": "kms-activation",
        "level": "mandatory",
        "urn": urn(vm, "VirtualMachine").replace("azure-native:network", "azure-native:compute"),
        "message": f"VM {vm}: Windows cannot activate: the image has no KMS client setup key.\nDocs: x",
    }


def test_a_new_mandatory_violation_without_a_subnet_change_is_a_regression(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = report([subnet("s", "reachable")])
    head = report([subnet("s", "reachable")], [activation("vm1")])
    d = diff.compare(base, head)
    assert [c.change for c in d.changes] == [diff.Change.UNCHANGED]
    assert d.violations == (
        diff.NewViolation("kms-activation", activation("vm1")["urn"], activation("vm1")["message"]),
    )
    assert d.regressed is True
    assert (
        diff.headline(d)
        == "this change breaks Windows activation: 1 new mandatory violation(s) (1 unchanged)"
    )
    doc = diff.document(d)
    validate(doc)
    assert doc["violations"] == [{k: activation("vm1")[k] for k in ("policy", "urn", "message")}]
    assert diff.render_text(d).splitlines()[3:] == [
        "unchanged  s: reachable → reachable",
        "new        kms-activation: VM vm1: Windows cannot activate: the image has no KMS client setup key.",
        "    Docs: x",
    ]
    assert main(["diff", str(write(tmp_path, "b.json", base)), str(write(tmp_path, "h.json", head))]) == 1
    # Already in the base (its message may have changed): not new. Advisory ones never count.
    reworded = {**activation("vm1"), "message": "VM vm1: Windows cannot activate: another reason."}
    assert diff.compare(report([subnet("s", "reachable")], [reworded]), head).regressed is False
    advisory = {**activation("vm2"), "level": "advisory"}
    assert diff.compare(base, report([subnet("s", "reachable")], [advisory])).regressed is False


def test_a_renamed_subnet_is_removed_plus_added() -> None:
    d = diff.compare(report([subnet("snet-old", "reachable")]), report([subnet("snet-new", "reachable")]))
    assert [(c.subnet, c.change.value) for c in d.changes] == [("snet-new", "added"), ("snet-old", "removed")]
    assert d.regressed is False


def test_urns_that_differ_by_stack_fall_back_to_vnet_and_name() -> None:
    base = report([subnet("snet-app", "reachable", subnet_urn=urn("snet-app", stack="prod"))], stack="prod")
    head = report([subnet("snet-app", "blocked")])
    (c,) = diff.compare(base, head).changes
    assert (c.change, c.urn, c.before, c.after) == (
        diff.Change.REGRESSED,
        urn("snet-app"),
        "reachable",
        "blocked",
    )
    # Same name in another VNet: another subnet.
    other = report([subnet("snet-app", "blocked", vnet="vnet-b")])
    assert [c.change.value for c in diff.compare(base, other).changes] == ["added", "removed"]


def test_blockers_without_a_violation_are_the_last_steps_of_the_failing_endpoints() -> None:
    head = report([subnet("s", "unknown", last_step="appliance 10.0.0.4")])
    (c,) = diff.compare(report([subnet("s", "reachable")]), head).changes
    assert c.blockers == tuple(f"appliance 10.0.0.4 ({ip})" for _, ip in IPS)
    # With the pack's kms-unverified violation: its "Unknown because:" lines.
    unverified = violation(head["subnets"][0], ["appliance 10.0.0.4 is not declared"], "kms-unverified")
    (c,) = diff.compare(report([subnet("s", "reachable")]), {**head, "violations": [unverified]}).changes
    assert c.blockers == ("appliance 10.0.0.4 is not declared",)


def test_text() -> None:
    base, head = pr()
    assert diff.render_text(diff.compare(base, head)).splitlines()[:8] == [
        "kmsguard diff: net/dev (base) → net/dev (head)",
        "REGRESSED — this change breaks Windows activation: 1 subnet(s) lose KMS reachability and 1 new "
        "subnet(s) blocked (1 regressed, 3 added, 1 improved, 1 removed, 3 unchanged)",
        "",
        "regressed  snet-app: reachable → blocked",
        f"    blocked by: {FORCED}",
        f"    fix 1: {FIX['detail']}",
        f"      Pulumi: {FIX['code']}",
        "added      snet-batch: (none) → reachable",
    ]


def write(tmp_path: Path, name: str, doc: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_cli_exit_codes_and_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base, head = pr()
    b, h = write(tmp_path, "base.json", base), write(tmp_path, "head.json", head)
    assert main(["diff", str(b), str(h), "--format", "json"]) == 1
    out = capsys.readouterr()
    assert (json.loads(out.out), out.err) == (diff.document(diff.compare(base, head)), "")
    # The head blocked but nothing got worse: 0 (an unchanged blocked subnet fails nothing).
    assert main(["diff", str(h), str(h)]) == 0
    assert capsys.readouterr().out.splitlines()[1] == "OK — no subnet loses KMS reachability (8 unchanged)"
    # Only improvements: 0.
    fixed = write(tmp_path, "fixed.json", report([subnet("snet-app", "reachable")]))
    broken = write(tmp_path, "broken.json", report([subnet("snet-app", "blocked")]))
    assert (
        main(["diff", str(broken), str(fixed), "--output", str(tmp_path / "out.md"), "--format", "markdown"])
        == 0
    )
    assert (tmp_path / "out.md").read_text(encoding="utf-8").startswith("### ✅ kmsguard: no subnet loses")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read: No such file or directory"),
        ("{not json", "line 1 column 2: Expecting property name enclosed in double quotes"),
        (
            "\ufeff" + '{"a": [' * 200_000,
            (
                "values are nested deeper than 128 levels, more than a policy pack can be sent; flatten "
                "the kmsguard JSON report"
            ),
        ),
        (
            '{"version": 3, "deployment": {}}',
            "not a kmsguard JSON report (`kmsguard preview|check --format json`): Additional properties are "
            "not allowed ('deployment', 'version' were unexpected)",
        ),
    ],
)
def test_cli_bad_input_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content, encoding="utf-8")
    good = write(tmp_path, "good.json", report([]))
    assert main(["diff", str(bad), str(good)]) == 2
    out = capsys.readouterr()
    assert (out.out, out.err) == ("", f"kmsguard: error: {bad}: {message}\n")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--fail-on", "regression"],
            "--fail-on regression needs --baseline BASE.json or --base-ref GIT_REF",
        ),
        (["--baseline", "b.json", "--base-ref", "HEAD~1"], "--baseline and --base-ref: give one of them"),
    ],
)
def test_preview_option_errors_exit_2(
    capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    assert main(["preview", "tests/programs/diff_spokes", "--stack", "dev", "--engine", "mocks", *extra]) == 2
    assert capsys.readouterr().err == f"kmsguard: error: {message}\n"


def test_sarif_from_two_reports_has_every_baseline_state() -> None:
    base, head = pr()
    data_blocked = violation(base["subnets"][1], [FORCED])
    mgmt = violation(base["subnets"][3], [FORCED])
    base["violations"] = [data_blocked, mgmt]
    mgmt_now = violation(head["subnets"][3], [NSG])  # same finding, another reason: updated
    head["violations"] = [*head["violations"], mgmt_now]
    log = sarif.log_from_reports(base, head)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    run = log["runs"][0]
    assert [
        (r["ruleId"], r["locations"][0]["logicalLocations"][0]["name"], r["baselineState"])
        for r in run["results"]
    ] == [
        ("kms-reachability", "snet-app", "new"),
        ("kms-reachability", "snet-web", "new"),
        ("kms-reachability", "snet-mgmt", "updated"),
        ("kms-reachability", "snet-data", "absent"),
    ]
    unchanged = sarif.log_from_reports(head, head)["runs"][0]["results"]
    assert [r["baselineState"] for r in unchanged] == ["unchanged"] * 3


def test_a_renamed_stack_changes_no_verdict_and_no_violation() -> None:
    # Same program, stack dev → prod: every URN changes, the subnets match by VNet and name, and their
    # violations and NICs are the same findings (the resource is the URN without stack and project).
    def stack(name: str) -> dict[str, Any]:
        s = {
            **subnet("s", "blocked", subnet_urn=urn("s", stack=name)),
            "nics": [{**nic("vm1-nic", ["blocked"] * 3), "urn": urn("vm1-nic", "NetworkInterface", name)}],
        }
        return report(
            [s], [violation(s, [FORCED]), {**activation("vm1"), "urn": urn("vm1", "VM", name)}], stack=name
        )

    d = diff.compare(stack("dev"), stack("prod"))
    assert [(c.change, c.endpoints[3:]) for c in d.changes] == [(diff.Change.UNCHANGED, ())]
    assert (d.violations, d.regressed) == ((), False)


def test_a_violation_reworded_without_a_subject_is_the_same_finding() -> None:
    # kms-client-activation's message names the image in its first line, which has no "subject: ".
    before = {
        **activation("vm1"),
        "message": "Windows VM vm1 is built from image win-custom, and nothing sets it up",
    }
    after = {**before, "message": "Windows VM vm1 is built from image win-custom-v2, and nothing sets it up"}
    base = report([subnet("s", "reachable")], [before])
    head = report([subnet("s", "reachable")], [after])
    assert diff.compare(base, head).violations == ()


def test_a_violation_on_a_resource_a_regressed_subnet_names_is_not_counted_again() -> None:
    # The route table's own finding (a conflicting KMS route) is why the subnet regressed.
    rt = {
        "policy": "kms-route-autofix",
        "level": "mandatory",
        "urn": FIX["urn"],
        "message": "route table rt-app: a user /32 route sends KMS IP 20.118.99.224 to another next hop",
    }
    head_subnet = subnet("s", "blocked")
    d = diff.compare(
        report([subnet("s", "reachable")]), report([head_subnet], [violation(head_subnet, [FORCED]), rt])
    )
    assert [c.change for c in d.changes] == [diff.Change.REGRESSED]
    assert d.violations == ()
    assert (
        diff.headline(d)
        == "this change breaks Windows activation: 1 subnet(s) lose KMS reachability (1 regressed)"
    )


def test_an_integer_too_long_to_convert_is_an_input_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "big.json"
    bad.write_text('{"project": ' + "9" * 5000 + "}", encoding="utf-8")
    assert main(["diff", str(bad), str(write(tmp_path, "good.json", report([])))]) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith(f"kmsguard: error: {bad}: Exceeds the limit (4300 digits)") and "internal" not in err
    )


def test_text_escapes_control_characters_from_the_stack() -> None:
    name = "s\nOK — no subnet loses KMS reachability\x1b[2K"
    d = diff.compare(report([subnet(name, "reachable")]), report([subnet(name, "blocked")]))
    out = diff.render_text(d)
    assert "\x1b" not in out
    assert "\nOK — " not in out
    assert (
        "regressed  s\\x0aOK — no subnet loses KMS reachability\\x1b[2K: reachable → blocked"
        in out.splitlines()
    )
