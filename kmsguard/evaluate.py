"""One evaluation of a stack by the kmsguard pack: the engine's verdict plus the analysis behind it.

Two sources feed the same pack (docs/pulumi-mechanics §1.3) through the analyzer driver:

* **preview** — a Pulumi program run offline (``kmsguard.engine.mocks.runner``): ``Remediate`` then
  ``Analyze`` per resource, remediations applied to the inputs as the engine applies them (§1.5),
  then ``AnalyzeStack`` on the remediated outputs; the verdicts are those of the remediated plan.
* **check** — a ``pulumi stack export`` file (§4.2), an audit of what is deployed. It follows
  ``pulumi policy analyze --file``: ``Remediate`` runs and what ``kms-route-autofix`` *would* add is
  reported, but nothing is applied, so ``Analyze`` sees the state inputs, ``AnalyzeStack`` the state
  outputs, and every verdict describes the deployed network. An auditor needs the state as it is;
  a remediation only exists after the next ``pulumi up``.

The per-subnet details come from ``kmsguard.policies.analyze_resources`` — the function the pack's
stack policies call — on the very resources the pack was given last, in the form the pack reads
them (wire encoding: unknown sentinels, secret envelopes, float numbers; outputs completed with the
Analyze inputs). Whether the run is blocked is the engine's rule: a mandatory violation (§1.7).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kmsguard.analysis import NetworkResult
from kmsguard.collect.resource import PulumiResource, merge_inputs
from kmsguard.engine import (
    DriveResult,
    EnforcementLevel,
    PackProcess,
    PackResource,
    PolicyInfo,
    Remediation,
    Secret,
    Violation,
)
from kmsguard.engine.errors import PolicyConfigError
from kmsguard.engine.wire import encode_value
from kmsguard.errors import KmsguardError, ValidationError
from kmsguard.protocol import (
    SECRET_PLACEHOLDER,
    SECRET_SIG,
    SIG_KEY,
    is_urn,
    logical_name,
    provider_ref_urn,
    stack_and_project,
)

if TYPE_CHECKING:
    from kmsguard.engine.mocks.runner import ProgramRun
    from kmsguard.engine.pulumi_cli.install import PulumiCli

__all__ = [
    "DEFAULT_PACK",
    "Evaluation",
    "PolicyConfigError",
    "Source",
    "evaluate_export",
    "evaluate_program",
    "evaluate_project",
    "evaluate_resources",
    "load_policy_config",
    "load_stack_export",
]

REACHABILITY = "kms-reachability"


# The pack shipped inside the package (kmsguard/pack): started in this interpreter, so an installed
# kmsguard has its pack; the repository's policy/ directory runs the same pack for the Pulumi CLI.
DEFAULT_PACK = Path(__file__).resolve().parent / "pack"

Source = tuple[str, int]  # program file, line


@dataclass(frozen=True)
class Evaluation:
    """Everything a report needs about one evaluated stack."""

    mode: str  # "preview" | "check"
    project: str
    stack: str
    drive: DriveResult
    result: NetworkResult
    sources: Mapping[str, Source] = field(default_factory=dict)  # URN → where it was declared
    # program, pack_start, pack (the RPCs), analysis (in process), total — seconds
    timings: Mapping[str, float] = field(default_factory=dict)
    # The file the resources came from (a stack export), for reports that point at it.
    origin: Path | None = None
    project_dir: Path | None = None
    # Which engine ran the preview: "mocks" (the stand-in) or "pulumi" (the real CLI), and its version.
    engine: str = "mocks"
    engine_version: str = ""
    # What the program printed and logged (print, stderr, pulumi.log), as `pulumi preview` shows it.
    program_output: str = ""

    # check: the diagnostics of policies at the ``remediate`` level (kms-route-autofix: the routes the
    # next `pulumi up` with the pack would add). They describe a change, not the deployed state, so
    # they are notes: never violations, never a failure (DESIGN "kmsguard check").
    notes: tuple[Violation, ...] = ()

    @property
    def blocked(self) -> bool:
        """§1.7: a mandatory violation; for check, of the deployed state (notes never count)."""
        return any(v.level == EnforcementLevel.MANDATORY for v in self.violations)

    @property
    def violations(self) -> tuple[Violation, ...]:
        noted = {id(v) for v in self.notes}
        return _engine_order(self.drive, tuple(v for v in self.drive.violations if id(v) not in noted))

    @property
    def outcome(self) -> str:
        """The one-line outcome every report prints (without the BLOCKED/PASSED word).

        Only a preview can say that `pulumi preview` with the pack would fail: a check evaluates
        the deployed state without the remediations a preview would apply first, so whether a
        preview of the same program fails is not known from it.
        """
        mandatory = sum(1 for v in self.violations if v.level == EnforcementLevel.MANDATORY)
        if self.mode == "preview":
            if mandatory and self.engine == "pulumi":
                return f"{mandatory} mandatory violation(s); `pulumi preview` with this pack failed"
            if mandatory:
                return f"{mandatory} mandatory violation(s); `pulumi preview` with this pack would fail"
            return "no mandatory violation"
        said = (
            f"{mandatory} mandatory violation(s) in the deployed state"
            if mandatory
            else "no mandatory violation in the deployed state"
        )
        if self.notes:
            said += f"; {len(self.notes)} note(s) on what the next `pulumi up` with this pack would add"
        return said

    @property
    def remediations(self) -> tuple[Remediation, ...]:
        # By resource, as the violations of resource policies (see _engine_order).
        return tuple(sorted(self.drive.remediations, key=lambda r: r.urn))

    def name_of(self, urn: str) -> str:
        return logical_name(urn)


def _engine_order(drive: DriveResult, violations: tuple[Violation, ...]) -> tuple[Violation, ...]:
    """Violations in one order whichever engine ran: those of resource policies by resource URN (the real
    engine reports them as its parallel steps finish, in an order that varies between runs), then those
    of stack policies in the pack's own order (deterministic: the analysis runs in URN order)."""
    stack_policies = {p.name for p in drive.policies if p.policy_type == "stack"}

    def key(v: Violation) -> tuple[int, str]:
        return (1, "") if v.policy in stack_policies else (0, v.urn)

    return tuple(sorted(violations, key=key))


# --- inputs --------------------------------------------------------------------------------------


def load_policy_config(path: Path | None) -> dict[str, Any]:
    """A ``--policy-pack-config`` file (§5): a JSON object; an empty file is allowed.

    Read through ``kmsguard.inputs``: UTF-8/16/32 with or without a BOM, bounded size and depth.
    """
    from kmsguard import inputs

    if path is None:
        return {}
    what = "policy pack config"
    text = inputs.read_text(path, what, limit=inputs.MAX_YAML_BYTES)
    if not text.strip():
        return {}
    data = inputs.parse_json(text, str(path), what)
    if not isinstance(data, dict):
        raise KmsguardError(f"{path}: a policy pack config is a JSON object, not {_json_kind(data)}")
    return data


def _json_kind(value: object) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


@dataclass(frozen=True)
class StackExport:
    project: str
    stack: str
    resources: tuple[PackResource, ...]


def load_stack_export(path: Path) -> StackExport:
    """The resources of a ``pulumi stack export`` file as the engine would send them (§4.2).

    Resources pending deletion are left out. Secrets that cannot be decrypted offline become the
    string ``[secret]`` (as ``pulumi policy analyze`` does); ``--show-secrets`` plaintext is used.
    Every structural problem is an error naming the file and the resource.
    """
    from kmsguard.inputs import load_json

    # UTF-16 with a BOM is what `pulumi stack export > state.json` writes in Windows PowerShell.
    data = load_json(path, "`pulumi stack export` file")
    where = f"{path}: not a `pulumi stack export` file"
    if not isinstance(data, dict):
        raise KmsguardError(f"{where} (the top level is {_json_kind(data)}, not an object)")
    deployment = data.get("deployment")
    if not isinstance(deployment, dict):
        raise KmsguardError(f'{where} (no "deployment" object)')
    items = deployment.get("resources", [])
    if not isinstance(items, list):
        raise KmsguardError(f"{path}: deployment.resources must be an array")
    resources: list[PackResource] = []
    providers: dict[str, Mapping[str, Any]] = {}
    project = stack = ""
    for i, item in enumerate(items):
        at = f"{path}: deployment.resources[{i}]"
        if not isinstance(item, dict):
            raise KmsguardError(f"{at}: must be an object")
        urn, token = item.get("urn"), item.get("type")
        if not isinstance(urn, str) or not is_urn(urn):
            raise KmsguardError(f"{at}: urn: {urn!r} is not a Pulumi URN")
        at = f"{path}: resource {urn}"
        if not isinstance(token, str) or not token:
            raise KmsguardError(f"{at}: type: must be a non-empty string")
        if not project:
            stack, project = stack_and_project(urn)
        if item.get("delete") is True:
            continue
        inputs = _mapping(item, "inputs", at)
        outputs = _mapping(item, "outputs", at)
        if token.startswith("pulumi:providers:"):
            providers[urn] = inputs
        pdeps = item.get("propertyDependencies") or {}
        if not isinstance(pdeps, dict) or not all(
            isinstance(v, list) and all(isinstance(u, str) for u in v) for v in pdeps.values()
        ):
            raise KmsguardError(f"{at}: propertyDependencies: must map property names to lists of URNs")
        deps = item.get("dependencies") or []
        if not isinstance(deps, list) or not all(isinstance(u, str) for u in deps):
            raise KmsguardError(f"{at}: dependencies: must be a list of URNs")
        parent = item.get("parent") or ""
        provider = item.get("provider") or ""
        if not isinstance(parent, str) or not isinstance(provider, str):
            raise KmsguardError(f"{at}: parent and provider must be strings")
        resources.append(
            PackResource(
                type=token,
                urn=urn,
                name=logical_name(urn),
                inputs=_secrets(inputs),
                outputs=_secrets(outputs),
                parent=parent,
                dependencies=tuple(deps),
                property_dependencies={k: tuple(v) for k, v in pdeps.items()},
                # "<provider urn>::<provider id>" (§4.2)
                provider_urn=provider_ref_urn(provider),
            )
        )
    if not project:
        raise KmsguardError(f"{path}: the export has no resources (an empty stack)")
    resources = [
        replace(r, provider_inputs=_secrets(providers[r.provider_urn])) if r.provider_urn in providers else r
        for r in resources
    ]
    return StackExport(project, stack, tuple(resources))


def _mapping(item: Mapping[str, Any], key: str, at: str) -> dict[str, Any]:
    value = item.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise KmsguardError(f"{at}: {key}: must be an object, not {_json_kind(value)}")
    if value.get(SIG_KEY) == SECRET_SIG:
        # The engine marks properties secret, never a resource's whole bag: nothing to read in it.
        raise KmsguardError(f"{at}: {key}: must be an object of properties, not a secret value")
    return value


def _secrets(value: Any) -> Any:
    """Stack-export secret envelopes → ``Secret`` (plaintext when shown, else ``[secret]``)."""
    if isinstance(value, list):
        return [_secrets(v) for v in value]
    if not isinstance(value, dict):
        return value
    if value.get(SIG_KEY) == SECRET_SIG:
        if "plaintext" in value and isinstance(value["plaintext"], str):
            try:
                return Secret(_secrets(json.loads(value["plaintext"])))
            except json.JSONDecodeError:
                return Secret(value["plaintext"])
        if "value" in value:
            return Secret(_secrets(value["value"]))
        return Secret(SECRET_PLACEHOLDER)
    return {k: _secrets(v) for k, v in value.items()}


# --- evaluation ----------------------------------------------------------------------------------


def reachability_config(policy_config: Mapping[str, Any]) -> dict[str, Any]:
    """The ``kms-reachability`` properties the pack receives for this config (§5 reconciliation).

    The policy has no schema defaults and no initial config, so the file's properties are all there
    is. When the policy is disabled the other stack policies analyse with defaults, as the pack does.
    """
    level_all = policy_config.get("all")
    if isinstance(level_all, dict):
        level_all = level_all.get("enforcementLevel")
    entry = policy_config.get(REACHABILITY)
    level = (
        entry
        if isinstance(entry, str)
        else entry.get("enforcementLevel")
        if isinstance(entry, dict)
        else None
    )
    if EnforcementLevel.parse(level or level_all) == EnforcementLevel.DISABLED:
        return {}
    if isinstance(entry, dict):
        return {k: v for k, v in entry.items() if k != "enforcementLevel"}
    return {}


def pack_view(r: PackResource) -> PulumiResource:
    """A resource as the pack's stack policies read it: outputs completed with the Analyze inputs,
    in the wire encoding (the pack reads raw values, never through the SDK's proxies)."""
    inputs = {k: v for k, v in r.inputs.items() if not k.startswith("__")}
    outputs = inputs if r.outputs is None else {k: v for k, v in r.outputs.items() if not k.startswith("__")}
    # Merged in the wire encoding, the form whose secrets ``merge_inputs`` re-marks after the inputs.
    props = merge_inputs(encode_value(outputs), encode_value(inputs))
    return PulumiResource(
        urn=r.urn,
        type=r.type,
        name=r.name,
        props=props,
        parent=r.parent,
        dependencies=r.dependencies,
        property_dependencies={k: v for k, v in r.property_dependencies.items() if v},
    )


def evaluate_resources(
    resources: Sequence[PackResource],
    *,
    mode: str,
    project: str,
    stack: str,
    policy_config: Mapping[str, Any] | None = None,
    pack_dir: Path = DEFAULT_PACK,
    pack: PackProcess | None = None,
    sources: Mapping[str, Source] | None = None,
    program_seconds: float = 0.0,
    origin: Path | None = None,
    project_dir: Path | None = None,
) -> Evaluation:
    """Drive the pack over ``resources`` and analyse the resources it ended with.

    ``pack`` is a pack already started (``evaluate_project`` starts it while the program runs); it
    is closed here. Without one, the pack in ``pack_dir`` is started.
    """
    from kmsguard.policies import analyze_resources

    if mode not in ("preview", "check"):
        raise ValueError(f"unknown mode {mode!r}")
    config = dict(policy_config or {})
    began = time.perf_counter()
    if pack is None:
        pack = PackProcess(pack_dir, project=project, stack=stack)
        pack.start()
    try:
        drive = drive_started(pack, resources, config, apply=mode == "preview")
    finally:
        pack.close()
    pack_seconds = time.perf_counter() - began
    t0 = time.perf_counter()
    try:
        result = analyze_resources([pack_view(r) for r in drive.final_resources], reachability_config(config))
    except ValidationError as exc:  # collect never raises: only the config can be bad here
        raise PolicyConfigError(str(exc)) from exc
    analysis = time.perf_counter() - t0
    rpcs = sum(
        float(drive.timings.get(k, 0.0)) for k in ("configure", "remediate", "analyze", "analyze_stack")
    )
    timings = {
        "program": program_seconds,
        "pack_start": pack.startup_seconds,
        "pack": rpcs,
        "analysis": analysis,
        # Wall time; the pack's start overlaps the program run when evaluate_project started it.
        "total": program_seconds + pack_seconds + analysis,
    }
    return Evaluation(
        mode=mode,
        project=project,
        stack=stack,
        drive=drive,
        result=result,
        sources=dict(sources or {}),
        timings=timings,
        origin=origin,
        project_dir=project_dir,
        notes=remediation_notes(drive, config) if mode == "check" else (),
    )


def effective_levels(
    policies: Sequence[PolicyInfo], policy_config: Mapping[str, Any]
) -> dict[str, EnforcementLevel]:
    """Each policy's level after the config (§5): its own entry, else ``all``, else its default.

    The engine has validated the config by now (Configure), so only well-formed entries are read.
    """

    def level_of(entry: object) -> EnforcementLevel | None:
        if isinstance(entry, Mapping):
            entry = entry.get("enforcementLevel")
        return EnforcementLevel.parse(entry)

    everything = level_of(policy_config.get("all"))
    return {
        p.name: level_of(policy_config.get(p.name)) or everything or p.enforcement_level for p in policies
    }


def remediation_notes(drive: DriveResult, policy_config: Mapping[str, Any]) -> tuple[Violation, ...]:
    """The diagnostics that ``kmsguard check`` reports as notes, not violations.

    A policy at the ``remediate`` level reports, in ``Analyze``, what its remediation would change
    (the engine raises the level to mandatory, §1.4). In a preview the remediation is applied
    first, so the diagnostic is gone unless the change cannot be made; a check applies nothing
    (``pulumi policy analyze --file``, §4.2), so every one of them would fail the audit of a
    deployed network that is fine. Whether that network reaches KMS is ``kms-reachability``'s verdict.
    """
    levels = effective_levels(drive.policies, policy_config)
    # Only a resource policy remediates: a stack policy set to "remediate" still judges the deployed
    # network, so its findings stay violations (never turned into notes that cannot fail).
    resource = {p.name for p in drive.policies if p.policy_type == "resource"}
    return tuple(
        v
        for v in drive.violations
        if v.policy in resource and levels.get(v.policy) == EnforcementLevel.REMEDIATE
    )


def drive_started(
    pack: PackProcess, resources: Sequence[PackResource], config: Mapping[str, Any], *, apply: bool
) -> DriveResult:
    """One engine operation on a started pack, in the engine's call order (§1.3).

    ``apply=True`` is ``pulumi preview`` — ``drive_pack``'s sequence: each resource's remediations
    replace its inputs before ``Analyze``, and ``AnalyzeStack`` sees the remediated resources.
    ``apply=False`` is ``pulumi policy analyze --file`` (§4.2): remediations are reported, not applied.
    """
    timings: dict[str, float] = {
        "start": pack.startup_seconds,
        "remediate": 0.0,
        "analyze": 0.0,
        "analyze_stack": 0.0,
    }
    violations: list[Violation] = []
    remediations: list[Remediation] = []
    final: list[PackResource] = []
    t = time.perf_counter()
    pack_name, policies = pack.analyzer_info()
    pack.configure(config)  # a refused config is a PolicyConfigError
    timings["configure"] = time.perf_counter() - t
    for r in resources:
        t = time.perf_counter()
        seen = len(pack.remediation_violations)
        done, remediated = pack.remediate(r)
        timings["remediate"] += time.perf_counter() - t
        remediations.extend(done)
        violations.extend(pack.remediation_violations[seen:])
        analyzed = remediated if apply else r
        t = time.perf_counter()
        violations.extend(pack.analyze(analyzed))
        timings["analyze"] += time.perf_counter() - t
        final.append(analyzed)
    t = time.perf_counter()
    violations.extend(pack.analyze_stack(final))
    timings["analyze_stack"] += time.perf_counter() - t
    return DriveResult(
        pack_name=pack_name,
        policies=policies,
        violations=tuple(violations),
        remediations=tuple(remediations),
        final_resources=tuple(final),
        stderr=pack.stderr,
        timings=timings,
    )


def evaluate_export(
    path: Path, *, policy_config: Mapping[str, Any] | None = None, pack_dir: Path = DEFAULT_PACK
) -> Evaluation:
    """``kmsguard check``: the audit of a ``pulumi stack export`` file."""
    export = load_stack_export(path)
    return evaluate_resources(
        export.resources,
        mode="check",
        project=export.project,
        stack=export.stack,
        policy_config=policy_config,
        pack_dir=pack_dir,
        origin=path,
    )


def evaluate_program(
    run: ProgramRun,
    *,
    policy_config: Mapping[str, Any] | None = None,
    pack_dir: Path = DEFAULT_PACK,
    pack: PackProcess | None = None,
) -> Evaluation:
    """``kmsguard preview``: a program run offline, driven through the pack like ``pulumi preview``."""
    sources = {reg.urn: reg.source for reg in run.registrations if reg.source is not None}
    return evaluate_resources(
        run.pack_resources(),
        mode="preview",
        project=run.project,
        stack=run.stack,
        policy_config=policy_config,
        pack_dir=pack_dir,
        pack=pack,
        sources=sources,
        program_seconds=run.seconds,
        project_dir=run.project_dir,
    )


def evaluate_project(
    project_dir: Path,
    stack: str,
    *,
    policy_config: Mapping[str, Any] | None = None,
    pack_dir: Path = DEFAULT_PACK,
    timeout: float = 300.0,
) -> Evaluation:
    """``kmsguard preview DIR --stack S``: run the program and start the pack at the same time.

    Both are separate processes, so the pack's start-up (about a second: Python, grpc, pulumi_policy)
    hides behind the program run (seconds: importing pulumi_azure_native alone takes longer).
    """
    from kmsguard.engine.mocks.runner import run_program
    from kmsguard.engine.project import load_project, stack_name

    # A missing or bad Pulumi.yaml (or stack reference) fails here, before any process starts; the pack
    # gets the stack's name part as PULUMI_STACK, as the CLI passes it.
    project = load_project(Path(project_dir))
    pack = PackProcess(pack_dir, project=project.name, stack=stack_name(project, stack))
    failure: list[BaseException] = []

    def start() -> None:
        try:
            pack.start()
        except BaseException as exc:  # re-raised in the caller's thread
            failure.append(exc)

    starter = threading.Thread(target=start, name="kmsguard-pack-start", daemon=True)
    starter.start()
    try:
        run = run_program(project_dir, stack, timeout=timeout)
    except BaseException:
        starter.join()
        pack.close()
        raise
    starter.join()
    if failure:
        pack.close()
        raise failure[0]
    return evaluate_program(run, policy_config=policy_config, pack_dir=pack_dir, pack=pack)


ENGINES = ("auto", "pulumi", "mocks")


def resolve_engine(engine: str) -> PulumiCli | None:
    """The Pulumi CLI that ``--engine`` selects, or ``None`` for the stand-in. ``auto``: the real CLI
    when one is found (``make engine``, PATH), else the stand-in; ``pulumi``: the CLI, or a clear error
    saying how to get one. Found once: each lookup runs ``pulumi version``."""
    if engine not in ENGINES:
        raise KmsguardError(f"--engine: expected one of {', '.join(ENGINES)}, got {engine!r}")
    if engine == "mocks":
        return None
    from kmsguard.engine.pulumi_cli.install import find_pulumi, require_pulumi

    return find_pulumi() if engine == "auto" else require_pulumi()


def evaluate_with_cli(
    project_dir: Path,
    stack: str,
    *,
    policy_config: Mapping[str, Any] | None = None,
    pack_dir: Path | None = None,
    timeout: float = 600.0,
    cli: PulumiCli | None = None,
) -> Evaluation:
    """``kmsguard preview --engine pulumi``: a real ``pulumi preview --policy-pack`` in a sandbox
    (``cli``: the one :func:`resolve_engine` found; by default the one ``require_pulumi`` finds).

    The engine's events decide the violations, their levels and the remediations applied; the traces
    and fixes come from the same analysis as the stand-in's, of the resources the engine gave the pack.
    """
    from kmsguard.engine.pulumi_cli.engine import preview_with_cli
    from kmsguard.policies import analyze_resources

    config = dict(policy_config or {})
    run = preview_with_cli(project_dir, stack, pack=pack_dir, policy_config=config, timeout=timeout, cli=cli)
    t0 = time.perf_counter()
    try:
        result = analyze_resources(
            [pack_view(r) for r in run.drive.final_resources], reachability_config(config)
        )
    except ValidationError as exc:
        raise PolicyConfigError(str(exc)) from exc
    analysis = time.perf_counter() - t0
    timings = {
        "program": float(run.timings.get("preview", 0.0)),
        "pack_start": 0.0,
        "pack": 0.0,
        "analysis": analysis,
        "total": float(run.timings.get("total", 0.0)) + analysis,
    }
    return Evaluation(
        mode="preview",
        project=run.project,
        stack=stack,
        drive=run.drive,
        result=result,
        timings=timings,
        project_dir=run.project_dir,
        engine="pulumi",
        engine_version=run.cli.version,
        program_output=run.program_output,
    )
