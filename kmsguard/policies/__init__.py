"""The policies of the kmsguard pack, importable and testable without starting a server.

``policy/__main__.py`` only builds the ``PolicyPack`` from ``POLICIES``. Stack policies never let an
exception escape: ``UnknownValueError`` would make the SDK downgrade a mandatory gate to an advisory
note (docs/pulumi-mechanics §1.7), so properties are read raw and unknowns become ``unknown`` verdicts.

Importing this module builds the policy objects only: the collector, the analysis, the catalog and
the remediation planner are imported by the first call that needs them, so the pack prints its
port (start-up) without loading them.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from kmsguard.config import CONFIG_PROPERTIES
from kmsguard.errors import KmsguardError
from kmsguard.policies import decode_once
from kmsguard.policies.links import ACTIVATION_DOCS, DOCS
from kmsguard.policies.servicer import around_each_call

if TYPE_CHECKING:
    from kmsguard.analysis import NetworkResult
    from kmsguard.collect.pulumi import PulumiResource
    from kmsguard.model import Network

PACK_NAME = "kmsguard"
REACHABILITY = "kms-reachability"
ACTIVATION = "kms-client-activation"
UNVERIFIED = "kms-unverified"
AUTOFIX = "kms-route-autofix"
INPUTS = "kms-inputs"
ROUTE_TABLE = "azure-native:network:RouteTable"


def raw(props: Any) -> Any:
    """The plain values behind a pulumi_policy proxy: reading through the proxy raises on unknowns.

    Analyze and AnalyzeStack wrap every nested dict and list eagerly (``_DictProxy``/``_ListProxy``),
    so the unwrapping is deep; Remediate's secrets proxy wraps one level and keeps ``Secret``
    objects inside, which are left as they are.
    """
    kind = type(props).__name__
    if kind == "_DictProxy":
        # Within an Analyze or AnalyzeStack call of the pack, the value the SDK built it from.
        made_from = decode_once.plain_of(props)
        if made_from is not None:
            return made_from
    if kind in ("_DictProxy", "_DictSecretsProxy"):
        return {k: raw(v) for k, v in props["__target"].items()}
    if kind in ("_ListProxy", "_ListSecretsProxy"):
        return [raw(v) for v in props["__target"]]
    # Remediate's deserializer leaves proxies inside plain containers (a route in a routes list).
    if isinstance(props, list):
        return [raw(v) for v in props]
    if isinstance(props, dict):
        return {k: raw(v) for k, v in props.items()}
    return props


# --- inputs seen in Analyze ---------------------------------------------------------------------

# AnalyzeStack carries outputs, and path parameters (resourceGroupName, virtualNetworkName,
# routeTableName, ...) are inputs only (pulumi-mechanics §1.6, §3.0). Analyze gets every resource's
# inputs first (§1.3), so the resource policy remembers them by URN for the stack analysis. Analyze
# calls run in parallel; single dict assignments are atomic under the GIL.
_inputs_by_urn: dict[str, Mapping[str, Any]] = {}


def _remember_inputs(args: ResourceValidationArgs) -> None:
    bag = raw(args.props)
    if isinstance(bag, dict):
        _inputs_by_urn[args.urn] = bag


# --- one analysis per AnalyzeStack call, shared by the stack policies ----------------------------

_shared = threading.local()


def _fingerprint(args: StackValidationArgs) -> tuple[str, ...]:
    return tuple(r.urn for r in args.resources)


def _call_of(report: ReportViolation) -> object | None:
    """The AnalyzeStack call a policy's report function belongs to, or ``None`` if it cannot be told.

    pulumi_policy (1.21) builds one report function per policy and call, bound to that call's
    response message, so the message identifies the call. Without it, a result left over from an
    earlier call on the same thread (same URNs, other properties or config) could be reused.
    """
    names = getattr(getattr(report, "__code__", None), "co_freevars", ())
    for name, cell in zip(names, getattr(report, "__closure__", None) or (), strict=False):
        if name == "response":
            response: object = cell.cell_contents
            return response
    return None


def analyze_resources(
    resources: Sequence[PulumiResource], config: Mapping[str, Any], *, into: Shared | None = None
) -> NetworkResult:
    """The analysis the stack policies report: collect + analyze under the ``kms-reachability`` config.

    A pure function of its arguments, so in-process evaluation gives exactly the pack's verdicts.
    Raises ``ValidationError`` (naming the key) for a bad config; the config is checked before
    anything is collected. ``into``: the call's shared slot, which gets the collected ``Network``
    (for ``kms-client-activation``) as soon as it exists, so a later error still leaves it.
    """
    from kmsguard.analysis import analyze
    from kmsguard.collect.pulumi import collect
    from kmsguard.config import parse_settings

    settings = parse_settings(config, f"policy config of {REACHABILITY}")
    network = collect(resources)
    if into is not None:
        into.network = network
    return analyze(network, settings)


@dataclass
class Shared:
    """What one AnalyzeStack call's stack policies share: built once, read by all, never written to."""

    key: tuple[object | None, tuple[str, ...]]
    resources: list[PulumiResource]
    network: Network | None = None
    result: NetworkResult | None = None

    def matches(self, key: tuple[object | None, tuple[str, ...]]) -> bool:
        return self.key[0] is not None and self.key[0] is key[0] and self.key[1] == key[1]


def _stack_resources(args: StackValidationArgs) -> list[PulumiResource]:
    from kmsguard.collect.pulumi import PulumiResource

    return [
        PulumiResource(
            urn=r.urn,
            type=r.resource_type,
            name=r.name,
            props=_stack_props(r.urn, raw(r.props)),
            parent=r.parent.urn if r.parent is not None else "",
            dependencies=tuple(d.urn for d in r.dependencies),
            property_dependencies={k: tuple(d.urn for d in v) for k, v in r.property_dependencies.items()},
        )
        for r in args.resources
    ]


def _stack_props(urn: str, outputs: Any) -> Any:
    from kmsguard.collect.pulumi import merge_inputs

    inputs = _inputs_by_urn.get(urn)
    if inputs is None or not isinstance(outputs, Mapping):
        return outputs
    return merge_inputs(outputs, inputs)


def shared_for(args: StackValidationArgs, report: ReportViolation) -> Shared:
    """This call's shared slot: the one ``kms-reachability`` filled, or a fresh one with the resources.

    All stack policies run on the same gRPC worker thread within one AnalyzeStack call, so a
    thread-local slot keyed by the call and the resources' URNs carries the work across. The slot
    holds the call's response message, so its identity cannot be reused while cached. A slot left
    over from an earlier call never matches (another response message), so it is only replaced.
    """
    key = (_call_of(report), _fingerprint(args))
    cached = getattr(_shared, "value", None)
    if isinstance(cached, Shared) and cached.matches(key):
        return cached
    fresh = Shared(key, _stack_resources(args))
    _shared.value = fresh
    return fresh


def release_after_each_call() -> bool:
    """Drop the thread's shared slot when each ``AnalyzeStack`` call of the pack ends.

    A slot left over is never reused (see ``shared_for``), but it keeps the whole call alive (its
    resources, network and results) until the next call's first stack policy replaces it, after
    the SDK has already decoded the next request: on the 10,000-resource bench estate that was
    about a sixth of the second call's peak memory. Called by ``policy/__main__.py`` only, like
    ``decode_once.install``. Idempotent; ``False`` if the SDK has no servicer to wrap.
    """
    return around_each_call("AnalyzeStack", "_kmsguard_releases_shared", _releasing_shared)


@contextmanager
def _releasing_shared() -> Iterator[None]:
    try:
        yield
    finally:
        _shared.value = None


def _analysis_for(args: StackValidationArgs, report: ReportViolation, *, producer: bool) -> NetworkResult:
    """``kms-reachability`` (first in the pack) computes and shares; the others reuse it."""
    if producer:
        # A fresh slot: the config may differ from any earlier call's, so nothing is reused.
        _shared.value = None
    shared = shared_for(args, report)
    if producer:
        shared.result = analyze_resources(shared.resources, args.get_config(), into=shared)
        return shared.result
    if shared.result is not None:
        return shared.result
    # kms-reachability is disabled (or failed): its config is not visible here, so defaults apply.
    return analyze_resources(shared.resources, {}, into=shared)


# --- secrets: Analyze and AnalyzeStack receive them unwrapped, Remediate wrapped ------------------

# pulumi_policy unwraps secrets before Analyze/AnalyzeStack, so a secret name or prefix would be
# echoed in a message. Remediate (which runs first for every resource, §1.3) still sees the Secret
# wrappers: the texts learnt there are redacted from every message. Shorter texts are not redacted
# (they would shred every message and hide nothing).
_secret_texts: set[str] = set()
_MIN_SECRET = 3
REDACTED = "[secret]"


def _learn_secrets(value: Any, inside: bool = False) -> None:
    kind = type(value).__name__
    if kind in ("_DictProxy", "_DictSecretsProxy", "_ListProxy", "_ListSecretsProxy"):
        _learn_secrets(value["__target"], inside)
    elif kind == "Secret":
        _learn_secrets(getattr(value, "value", None), True)
    elif isinstance(value, dict):
        for item in value.values():
            _learn_secrets(item, inside)
    elif isinstance(value, list):
        for item in value:
            _learn_secrets(item, inside)
    elif inside and not isinstance(value, bool) and isinstance(value, str | int | float):
        text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
        if len(text) >= _MIN_SECRET:
            _secret_texts.add(text)


def redact(message: str) -> str:
    """``message`` with every secret text learnt so far replaced by ``[secret]``, longest first."""
    for text in sorted(tuple(_secret_texts), key=len, reverse=True):
        message = message.replace(text, REDACTED)
    return message


def _redacting(report: ReportViolation) -> ReportViolation:
    def redacted(message: str, urn: str | None = None) -> None:
        report(redact(message), urn)

    return redacted


def _guarded(policy: str, report: ReportViolation, run: Any) -> None:
    """Fail closed: an input or internal error is a violation at the policy's level, never a pass."""
    try:
        run()
    except KmsguardError as exc:
        report(f"kmsguard could not evaluate the stack: {exc}", None)
    except Exception as exc:  # any escape would be a gRPC error or a silent pass
        tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
        report(f"kmsguard internal error in {policy} (the stack was not verified): {tb}", None)


def _validate_reachability(args: StackValidationArgs, report: ReportViolation) -> None:
    call = report
    report = _redacting(report)

    def run() -> None:
        from kmsguard.analysis import Verdict
        from kmsguard.policies.messages import blocked_message

        result = _analysis_for(args, call, producer=True)
        for subnet in result.subnets:
            if subnet.verdict is Verdict.BLOCKED:
                report(blocked_message(subnet), subnet.urn)

    _guarded(REACHABILITY, report, run)


def _validate_unverified(args: StackValidationArgs, report: ReportViolation) -> None:
    call = report
    report = _redacting(report)

    def run() -> None:
        from kmsguard.analysis import Verdict
        from kmsguard.policies.messages import unknown_message

        result = _analysis_for(args, call, producer=False)
        for problem in result.problems:
            report(f"{problem.where}: {problem.prop}: {problem.message}", problem.urn)
        for subnet in result.subnets:
            if subnet.verdict is Verdict.UNKNOWN:
                report(unknown_message(subnet), subnet.urn)

    _guarded(UNVERIFIED, report, run)


# --- kms-route-autofix ---------------------------------------------------------------------------


def _remediate_routes(args: ResourceValidationArgs) -> Mapping[str, Any] | None:
    """Append the missing /32 → Internet KMS routes to the table's inline routes (Remediate).

    Remediate receives unknowns as raw sentinel strings and secrets wrapped (§1.5), so the existing
    route objects are kept as they are and only new plain dicts are appended.
    """
    if args.resource_type != ROUTE_TABLE:
        return None
    try:
        from kmsguard.remediate import plain, plan_kms_routes

        props = args.props
        bag = raw(props)
        if not isinstance(bag, dict):
            return None
        # A secret route list is a Secret of proxies here; the proxy re-wraps the new list as secret.
        existing = raw(plain(bag.get("routes")))
        plan = plan_kms_routes(existing, bag.get("location"), bypass_appliances=False)
        if not plan.added:
            return None
        props["routes"] = [*existing, *plan.added]  # type: ignore[index]
        return props
    except Exception:  # an escape fails the whole preview (§1.7); Analyze then reports the routes
        return None


def _validate_routes(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Report what remediation could not (or, below the remediate level, did not) add."""
    report = _redacting(report)
    if args.resource_type != ROUTE_TABLE:
        return
    try:
        from kmsguard.remediate import MAX_ROUTES, plan_kms_routes

        bag = raw(args.props)
        if not isinstance(bag, dict):
            return
        plan = plan_kms_routes(bag.get("routes"), bag.get("location"), bypass_appliances=False)
    except Exception as exc:  # an escape would fail the whole preview
        report(f"kmsguard internal error in {AUTOFIX}: {exc!r}", None)
        return
    if plan.over_limit:
        report(
            f"route table {args.name}: the KMS routes cannot be added without exceeding the {MAX_ROUTES}-route "
            f"limit (§2.8); KMS traffic still goes {'; '.join(plan.diverted)}. Consolidate routes, or allow TCP 1688 "
            "to the KMS IPs on the appliance.",
            None,
        )
    elif plan.added:
        listing = ", ".join(f"{r['addressPrefix']} → Internet ({r['name']})" for r in plan.added)
        report(f"route table {args.name}: KMS traffic goes {'; '.join(plan.diverted)}. Add {listing}.", None)
    for ip in plan.conflicts:
        report(
            f"route table {args.name}: a user /32 route sends KMS IP {ip} to another next hop; kmsguard never "
            "rewrites user routes: change its nextHopType to Internet.",
            None,
        )


kms_reachability = StackValidationPolicy(
    name=REACHABILITY,
    description="Every subnet must reach every Azure KMS endpoint of its cloud on TCP 1688 from an Azure public IP.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_reachability,
    config_schema=PolicyConfigSchema(properties=CONFIG_PROPERTIES),
    remediation_steps=(
        "Route each KMS IP of the cloud as /32 → Internet on forced-tunneled subnets, let NSGs and firewalls "
        "allow TCP 1688 to those IPs, give private subnets an explicit outbound method, and keep private DNS "
        "zones from shadowing the KMS names. The violation lists the exact changes."
    ),
    url=f"{DOCS}#kms-reachability",
)

kms_unverified = StackValidationPolicy(
    name=UNVERIFIED,
    description="Subnets whose KMS reachability cannot be proven from the stack (unknown verdicts).",
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=_validate_unverified,
    remediation_steps=(
        "Make the unknown values known (or describe out-of-stack resources in the kms-reachability config: "
        "egressAppliances, trustedDnsServers, cloud), or add /32 → Internet KMS routes that settle routing."
    ),
    url=f"{DOCS}#kms-unverified",
)

kms_route_autofix = ResourceValidationPolicy(
    name=AUTOFIX,
    description=(
        "Adds the missing /32 → Internet KMS routes to route tables whose inline routes divert KMS traffic "
        "anywhere but to a virtual appliance (kms-reachability judges appliances)."
    ),
    enforcement_level=EnforcementLevel.REMEDIATE,
    validate=_validate_routes,
    remediate=cast(Any, _remediate_routes),  # the SDK's hint wants an awaitable; sync returns are supported
    remediation_steps="Add one /32 → Internet route per KMS IP of the table's cloud (Microsoft: custom routes for KMS).",
    url=f"{DOCS}#kms-route-autofix",
)

# --- kms-client-activation (its checks live in kmsguard.policies.activation) ----------------------


def _validate_activation(args: StackValidationArgs, report: ReportViolation) -> None:
    def run() -> None:
        # Imported on the first AnalyzeStack: the module needs the collector, model and catalog.
        from kmsguard.policies.activation import validate

        validate(args, report)  # reports its own errors; only a failed import is caught here

    _guarded(ACTIVATION, _redacting(report), run)


kms_client_activation = StackValidationPolicy(
    name=ACTIVATION,
    description="Windows VMs from custom images need a KMS activation set-up; Azure Edition needs IMDS.",
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=_validate_activation,
    remediation_steps=(
        "Add kmsguard.pulumi.KmsActivation for Windows VMs built from custom or gallery images; keep NSGs from "
        "denying AzurePlatformIMDS on Azure Edition VMs."
    ),
    url=ACTIVATION_DOCS,
)

# --- kms-inputs ----------------------------------------------------------------------------------


def _record_remediate(args: ResourceValidationArgs) -> None:
    """Remediate is the only call that still marks secrets (§1.5): learn them, change nothing."""
    _learn_secrets(args.props)


def _record_inputs(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Analyze gets the inputs AnalyzeStack lacks (path parameters, §3.0): remember them."""
    _remember_inputs(args)


# Its own policy, at the remediate level, so that both calls reach the pack whatever level the user
# gives kms-route-autofix: a disabled policy is skipped entirely (§1.7), and with it the inputs.
kms_inputs = ResourceValidationPolicy(
    name=INPUTS,
    description="Records each resource's inputs and secret markings for the kms stack policies; never reports.",
    enforcement_level=EnforcementLevel.REMEDIATE,
    validate=_record_inputs,
    remediate=cast(Any, _record_remediate),
    remediation_steps="Nothing to fix: keep this policy enabled, kms-reachability and kms-unverified read what it records.",
    url=f"{DOCS}#kms-inputs",
)

POLICIES: Sequence[StackValidationPolicy | ResourceValidationPolicy] = (
    kms_reachability,
    kms_unverified,
    kms_route_autofix,
    kms_client_activation,
    kms_inputs,
)
