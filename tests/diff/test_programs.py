"""kmsguard diff end to end: small azure-native programs run by `kmsguard preview` on the stand-in.

One program (tests/programs/diff_spokes) with a base and a head stack file, evaluated once each per
module: a forced tunnel added (regressed), KMS routes added (improved), a subnet added blocked and one
added reachable, a subnet renamed (removed + added), a blocked subnet left alone (unchanged). Then
the audit of a deployed state (`check`) as the base of a preview, and `--base-ref` on a git
repository with two commits.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from kmsguard import diff
from kmsguard.cli import _empty_report, main
from kmsguard.evaluate import Evaluation, evaluate_project
from kmsguard.report import html, markdown, render, sarif

from .test_markdown import rendered

ROOT = Path(__file__).resolve().parent.parent.parent
SPOKES = ROOT / "tests" / "programs" / "diff_spokes"
DEPLOYED = ROOT / "tests" / "programs" / "diff_deployed"
EXPORT = ROOT / "tests" / "data" / "export-blocked.json"
SCHEMA = json.loads(diff.DIFF_SCHEMA.read_text(encoding="utf-8"))
IPS = ["20.118.99.224", "40.83.235.53", "23.102.135.246"]
FQDNS = ["azkms.core.windows.net", "azkms.core.windows.net", "kms.core.windows.net"]
BASE = [("app", "none"), ("data", "gateway"), ("legacy", "none"), ("mgmt", "gateway")]
HEAD = [
    ("app", "gateway"),  # a forced tunnel added
    ("data", "gateway+kms"),  # the KMS routes added
    ("batch", "none"),  # legacy, renamed
    ("mgmt", "gateway"),  # blocked before and after
    ("web", "gateway"),  # added, blocked
    ("ops", "none"),  # added, reachable
]


def stack_file(spokes: list[tuple[str, str]]) -> str:
    lines = ["config:", "  azure-native:location: westeurope", "  spokes:spokes:"]
    return "\n".join([*lines, *(f"    - {{name: {n}, tunnel: {t}}}" for n, t in spokes)]) + "\n"


def program(where: Path, spokes: list[tuple[str, str]]) -> Path:
    where.mkdir(parents=True)
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(SPOKES / name, where / name)
    (where / "Pulumi.dev.yaml").write_text(stack_file(spokes), encoding="utf-8")
    return where


def urn(name: str) -> str:
    return f"urn:pulumi:dev::spokes::azure-native:network:Subnet::snet-{name}"


def doc_of(ev: Evaluation) -> dict[str, Any]:
    return json.loads(render(ev, "json"))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Evaluation, Evaluation]:
    tmp = tmp_path_factory.mktemp("spokes")
    base = evaluate_project(program(tmp / "base", BASE), "dev")
    head = evaluate_project(program(tmp / "head", HEAD), "dev")
    return base, head


def forced(name: str, ip: str) -> str:
    return (
        f"route table rt-{name} route {name}-default: 0.0.0.0/0 → VirtualNetworkGateway (selected for {ip}): "
        "traffic leaves Azure through the gateway, so KMS sees a non-Azure source IP (docs/rules.md#azure-public-source)"
    )


def test_every_change_of_the_pull_request(runs: tuple[Evaluation, Evaluation]) -> None:
    base, head = runs
    doc = diff.document(diff.compare(doc_of(base), doc_of(head)))
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    assert (doc["base"], doc["head"], doc["regressed"]) == (
        {"project": "spokes", "stack": "dev", "blocked": True},
        {"project": "spokes", "stack": "dev", "blocked": True},
        True,
    )
    assert [
        (c["subnet"], c["urn"], c["vnet"], c["before"], c["after"], c["change"]) for c in doc["changes"]
    ] == [
        # The head's subnets in the report's order, then those only the base has.
        ("snet-app", urn("app"), "spokes-vnet", "reachable", "blocked", "regressed"),
        ("snet-batch", urn("batch"), "spokes-vnet", None, "reachable", "added"),
        ("snet-data", urn("data"), "spokes-vnet", "blocked", "reachable", "improved"),
        ("snet-mgmt", urn("mgmt"), "spokes-vnet", "blocked", "blocked", "unchanged"),
        ("snet-ops", urn("ops"), "spokes-vnet", None, "reachable", "added"),
        ("snet-web", urn("web"), "spokes-vnet", None, "blocked", "added"),
        ("snet-legacy", urn("legacy"), "spokes-vnet", "reachable", None, "removed"),
    ]
    app, data = doc["changes"][0], doc["changes"][2]
    assert app["endpoints"] == [
        {"fqdn": f, "ip": ip, "before": "reachable", "after": "blocked"}
        for f, ip in zip(FQDNS, IPS, strict=True)
    ]
    assert data["endpoints"] == [
        {"fqdn": f, "ip": ip, "before": "blocked", "after": "reachable"}
        for f, ip in zip(FQDNS, IPS, strict=True)
    ]
    assert app["blockers"] == [forced("app", IPS[0])]
    assert [(f["kind"], f["target"]) for f in app["fixes"]] == [("add-routes", "rt-app")]
    web = doc["changes"][5]
    assert (web["blockers"], [f["target"] for f in web["fixes"]]) == ([forced("web", IPS[0])], ["rt-web"])
    assert all(
        c["blockers"] == [] == c["fixes"]
        for c in doc["changes"]
        if c["subnet"] not in ("snet-app", "snet-web")
    )


def test_markdown_rows(runs: tuple[Evaluation, Evaluation]) -> None:
    base, head = runs
    page = rendered(markdown.render_diff(diff.compare(doc_of(base), doc_of(head))))
    assert page.tables == [
        [
            ["subnet", "VNet", "before", "after", "change"],
            ["snet-app", "spokes-vnet", "✅ reachable", "❌ blocked", "regressed"],
            ["snet-batch", "spokes-vnet", "—", "✅ reachable", "added"],
            ["snet-ops", "spokes-vnet", "—", "✅ reachable", "added"],
            ["snet-web", "spokes-vnet", "—", "❌ blocked", "added"],
            ["snet-data", "spokes-vnet", "❌ blocked", "✅ reachable", "improved"],
            ["snet-legacy", "spokes-vnet", "✅ reachable", "—", "removed"],
        ],
        [["subnet", "VNet", "verdict"], ["snet-mgmt", "spokes-vnet", "❌ blocked"]],
    ]
    assert page.headings[1:] == ["❌ snet-app: reachable → blocked", "❌ snet-web: (none) → blocked"]


def test_sarif_baseline_states_point_at_the_program(runs: tuple[Evaluation, Evaluation]) -> None:
    base, head = runs
    log = sarif.log(head, baseline=doc_of(base), cwd=ROOT)
    results = log["runs"][0]["results"]
    assert [
        (
            r["properties"]["policy"],
            r["locations"][0]["logicalLocations"][0]["name"],
            r["level"],
            r["baselineState"],
        )
        for r in results
    ] == [
        ("kms-reachability", "snet-app", "error", "new"),
        ("kms-reachability", "snet-mgmt", "error", "unchanged"),
        ("kms-reachability", "snet-web", "error", "new"),
        ("kms-reachability", "snet-data", "error", "absent"),
    ]
    # Each result's rule is the finding its message names first.
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] and r["ruleId"].startswith("KMS-") for r in results)
    lines = (head.project_dir / "__main__.py").read_text().splitlines()  # type: ignore[operator]
    for r in results:
        physical = r["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"]["uri"].endswith("/head/__main__.py")
        assert lines[physical["region"]["startLine"] - 1].strip() == "azure.network.Subnet("


def test_html_marks_regressed_and_improved_subnets(runs: tuple[Evaluation, Evaluation]) -> None:
    base, head = runs
    changes = diff.compare(doc_of(base), doc_of(head)).changes
    page = html.render(head, changes=changes)
    assert page.count('<span class="badge regressed"') == 2  # in the contents and on the section
    assert page.count('<span class="badge improved"') == 2
    assert '<section class="subnet regressed blocked" id="subnet-0">' in page
    assert '<section class="subnet improved reachable" id="subnet-2">' in page
    assert "regressed (was reachable)</span></h2>" in page
    assert (
        '<p class="baseline">Compared with the baseline: 1 regressed, 1 improved, 3 added, 1 removed. '
        "Only in the baseline: snet-legacy.</p>" in page
    )
    assert '<span class="badge regressed"' not in html.render(head)


def test_a_check_of_the_deployed_state_as_the_base_of_a_preview(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "deployed.json"
    assert main(["check", str(EXPORT), "--format", "json", "--output", str(state)]) == 1
    args = ["preview", str(DEPLOYED), "--stack", "prod", "--engine", "mocks", "--baseline", str(state)]
    assert main([*args, "--format", "json"]) == 0  # blocked, but nothing got worse
    doc = json.loads(capsys.readouterr().out)
    vnet = "urn:pulumi:prod::network::azure-native:network:VirtualNetwork::vnet-spoke"
    assert [(c["subnet"], c["urn"], c["before"], c["after"], c["change"]) for c in doc["changes"]] == [
        ("vnet-spoke/snet-app", vnet, "blocked", "blocked", "unchanged"),
        ("vnet-spoke/GatewaySubnet", vnet, "excluded", "excluded", "unchanged"),
        (
            "snet-data",
            "urn:pulumi:prod::network::azure-native:network:Subnet::snet-data",
            "blocked",
            "reachable",
            "improved",
        ),
    ]
    assert (doc["regressed"], doc["head"]["blocked"]) == (False, True)
    # --fail-on blocked: the usual gate, with the SARIF still marked against the deployed state.
    assert main([*args, "--fail-on", "blocked", "--format", "sarif"]) == 1
    results = json.loads(capsys.readouterr().out)["runs"][0]["results"]
    assert [
        (
            r["locations"][0]["logicalLocations"][0]["name"],
            r["message"]["text"].split(":")[0],
            r["baselineState"],
        )
        for r in results
        if r["properties"]["policy"] == "kms-reachability"
    ] == [
        # Still blocked, now by the NSG rule: the same finding with another message.
        ("vnet-spoke", "Subnet vnet-spoke/snet-app (westeurope, public cloud)", "updated"),
        ("snet-data", "Subnet snet-data (westeurope, public cloud)", "absent"),
    ]
    assert all("baselineState" in r for r in results)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_base_ref_runs_the_project_at_that_commit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], runs: tuple[Evaluation, Evaluation]
) -> None:
    repo = tmp_path / "repo"
    project = program(repo / "infra", BASE)
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    (project / "Pulumi.dev.yaml").write_text(stack_file(HEAD), encoding="utf-8")
    git(repo, "commit", "-q", "-am", "head")
    before = (
        git(repo, "status", "--porcelain"),
        git(repo, "worktree", "list"),
        sorted(p.name for p in (repo / ".git").iterdir()),
    )
    code = main(
        [
            "preview",
            str(project),
            "--stack",
            "dev",
            "--engine",
            "mocks",
            "--base-ref",
            "HEAD~1",
            "--format",
            "json",
        ]
    )
    out = capsys.readouterr()
    assert code == 1, out.err
    base, head = runs
    assert json.loads(out.out) == diff.document(diff.compare(doc_of(base), doc_of(head)))
    # Nothing left in the user's repository: no worktree, no change, no new entry in .git.
    assert (
        git(repo, "status", "--porcelain"),
        git(repo, "worktree", "list"),
        sorted(p.name for p in (repo / ".git").iterdir()),
    ) == before
    # A ref that is not a commit: exit 2, one line.
    assert main(["preview", str(project), "--stack", "dev", "--engine", "mocks", "--base-ref", "nope"]) == 2
    assert (
        capsys.readouterr().err
        == f"kmsguard: error: --base-ref: 'nope' is not a commit of the repository {repo}\n"
    )


def test_check_base_ref_reads_the_state_file_at_that_commit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    state = repo / "state.json"
    shutil.copy(ROOT / "tests" / "data" / "export-compliant.json", state)
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "compliant")
    shutil.copy(EXPORT, state)
    git(repo, "commit", "-q", "-am", "forced tunnel")
    assert main(["check", str(state), "--base-ref", "HEAD~1", "--format", "text"]) == 1
    assert capsys.readouterr().out.splitlines()[:2] == [
        "kmsguard diff: network/prod (base) → network/prod (head)",
        "REGRESSED — this change breaks Windows activation: 2 subnet(s) lose KMS reachability "
        "(2 regressed, 1 unchanged)",
    ]
    assert main(["check", str(repo / "missing.json"), "--base-ref", "HEAD~1"]) == 2
    assert (
        capsys.readouterr().err
        == "kmsguard: error: --base-ref: missing.json does not exist at HEAD~1 ("
        + git(repo, "rev-parse", "HEAD~1")[:12]
        + ")\n"
    )


def new_in_head(kind: str, ref: str = "HEAD") -> str:
    return f"kmsguard: the base at {ref} has no {kind}: comparing with an empty base\n"


def test_base_ref_without_the_stack_compares_with_an_empty_base(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], runs: tuple[Evaluation, Evaluation]
) -> None:
    # The empty base is a report (report.schema.json) with the head's project and stack.
    empty = _empty_report(runs[1])
    diff.check_report(empty, "the empty base")
    assert (empty["project"], empty["stack"], empty["subnets"], empty["violations"]) == (
        "spokes",
        "dev",
        [],
        [],
    )
    repo = tmp_path / "repo"
    project = program(repo / "infra", BASE)
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    # A stack added by the pull request (untracked here): the base at HEAD has no Pulumi.qa.yaml, so
    # its program would run without config; every head subnet is added instead.
    (project / "Pulumi.qa.yaml").write_text(stack_file(HEAD), encoding="utf-8")
    args = ["preview", str(project), "--stack", "qa", "--engine", "mocks", "--base-ref", "HEAD"]
    assert main([*args, "--format", "json"]) == 1
    out = capsys.readouterr()
    assert out.err == new_in_head("stack qa"), out.err
    doc = json.loads(out.out)
    jsonschema.validate(doc, SCHEMA)
    assert (doc["base"], doc["head"]["project"], doc["head"]["stack"]) == (
        {"project": "spokes", "stack": "qa", "blocked": False},
        "spokes",
        "qa",
    )
    # Added blocked subnets fail the gate; added reachable ones do not.
    assert sorted((c["subnet"], c["change"], c["after"]) for c in doc["changes"]) == sorted(
        (f"snet-{n}", "added", "reachable" if t in ("none", "gateway+kms") else "blocked") for n, t in HEAD
    )
    # A new stack whose subnets all reach KMS: exit 0, with the same line.
    (project / "Pulumi.qa.yaml").write_text(stack_file([("ops", "none")]), encoding="utf-8")
    assert main([*args, "--format", "markdown"]) == 0
    assert capsys.readouterr().err == new_in_head("stack qa")


def test_base_ref_without_the_project_compares_with_an_empty_base(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "README").write_text("x\n", encoding="utf-8")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    project = program(repo / "newproj", [("ops", "none"), ("data", "gateway+kms")])
    args = ["preview", str(project), "--stack", "dev", "--engine", "mocks", "--base-ref", "HEAD"]
    assert main([*args, "--format", "json"]) == 0
    out = capsys.readouterr()
    assert out.err == new_in_head("project spokes"), out.err
    doc = json.loads(out.out)
    assert [(c["change"], c["after"]) for c in doc["changes"]] == [("added", "reachable")] * 2
    assert doc["regressed"] is False
    # --fail-on blocked: the head's own gate, whatever the base.
    (project / "Pulumi.dev.yaml").write_text(stack_file([("web", "gateway")]), encoding="utf-8")
    assert main([*args, "--fail-on", "blocked"]) == 1
    out = capsys.readouterr()
    assert out.err == new_in_head("project spokes"), out.err
    assert "added      snet-web: (none) → blocked" in out.out


def test_base_ref_names_the_base_when_its_program_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    project = program(repo / "infra", HEAD)
    main_py = (project / "__main__.py").read_text(encoding="utf-8")
    (project / "__main__.py").write_text('raise RuntimeError("broken base")\n', encoding="utf-8")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "broken")
    (project / "__main__.py").write_text(main_py, encoding="utf-8")
    git(repo, "commit", "-q", "-am", "fixed")
    args = ["preview", str(project), "--stack", "dev", "--engine", "mocks", "--base-ref", "HEAD~1"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "broken base" in err
    assert err.splitlines()[-1].startswith("kmsguard: error: the base at HEAD~1: "), err
    assert "comparing with an empty base" not in err


def test_check_base_ref_without_the_state_file_compares_with_an_empty_base(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "README").write_text("x\n", encoding="utf-8")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    shutil.copy(EXPORT, repo / "state.json")
    assert main(["check", str(repo / "state.json"), "--base-ref", "HEAD", "--format", "json"]) == 1
    out = capsys.readouterr()
    assert out.err == new_in_head("state.json")
    doc = json.loads(out.out)
    assert doc["base"] == {"project": "network", "stack": "prod", "blocked": False}
    assert {c["change"] for c in doc["changes"]} == {"added"}
    assert doc["regressed"] is True


def test_a_check_against_itself_marks_every_sarif_result_unchanged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The deployed state's notes (what the autofix would add) are SARIF results at the note level:
    # the baseline's notes are the same findings.
    assert main(["check", str(EXPORT), "--format", "json", "--output", str(tmp_path / "base.json")]) == 1
    assert json.loads((tmp_path / "base.json").read_text(encoding="utf-8"))["notes"] != []
    capsys.readouterr()
    main(["check", str(EXPORT), "--baseline", str(tmp_path / "base.json"), "--format", "sarif"])
    results = json.loads(capsys.readouterr().out)["runs"][0]["results"]
    assert {(r["level"], r["baselineState"]) for r in results} == {
        ("error", "unchanged"),
        ("note", "unchanged"),
    }
    # Without that note in the baseline, it is absent from the base: new; and a note only the base has
    # is listed as absent, at the note level.
    base = json.loads((tmp_path / "base.json").read_text(encoding="utf-8"))
    note = base["notes"][0]
    base["notes"] = []
    (tmp_path / "no-notes.json").write_text(json.dumps(base), encoding="utf-8")
    main(["check", str(EXPORT), "--baseline", str(tmp_path / "no-notes.json"), "--format", "sarif"])
    results = json.loads(capsys.readouterr().out)["runs"][0]["results"]
    assert ("note", "new") in {(r["level"], r["baselineState"]) for r in results}
    base["notes"] = [note, {**note, "urn": None, "message": "route table gone: would add a route"}]
    (tmp_path / "extra.json").write_text(json.dumps(base), encoding="utf-8")
    main(["check", str(EXPORT), "--baseline", str(tmp_path / "extra.json"), "--format", "sarif"])
    results = json.loads(capsys.readouterr().out)["runs"][0]["results"]
    assert [
        (r["level"], r["properties"]["enforcementLevel"]) for r in results if r["baselineState"] == "absent"
    ] == [("note", "remediate")]
