"""The policies of the kmsguard pack, importable and testable without starting a server.

``policy/__main__.py`` only builds the ``PolicyPack`` from ``POLICIES``. Stack policies never let an
exception escape: ``UnknownValueError`` would make the SDK downgrade a mandatory gate to an advisory
note (docs/pulumi-mechanics §1.7), so properties are read raw and unknowns become ``unknown`` verdicts.

Importing this module builds the policy objects only: the collector, the analysis, the catalog and
the remediation planner are imported by the first call that needs them, so the pack prints its
port (start-up) without loading them.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping, Sequence
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
from kmsguard.findings import Finding
from kmsguard.policies import decode_once
from kmsguard.policies import scope as call_scope
from kmsguard.policies.links import ACTIVATION_DOCS, DOCS, with_finding
from kmsguard.protocol import SECRET_PLACEHOLDER

if TYPE_CHECKING:
    from kmsguard.analysis import NetworkResult
    from kmsguard.analysis.settings import Settings
    from kmsguard.collect.resource import PulumiResource
    from kmsguard.model import Network

PACK_NAME = "kmsguard"
REACHABILITY = "kms-reachability"
# Where a bad key of kms-reachability's config is, in the error that names it.
REACHABILITY_CONFIG = f"policy config of {REACHABILITY}"
ACTIVATION = "kms-client-activation"
UNVERIFIED = "kms-unverified"
AUTOFIX = "kms-route-autofix"
INPUTS = "kms-inputs"
ROUTE_TABLE = "azure-native:network:RouteTable"
ROUTE = "azure-native:network:Route"
# The classic provider (pulumi-azure) has the same inline routes (name, addressPrefix, nextHopType)
# and standalone Routes (name, routeTableName, resourceGroupName): the autofix treats both alike.
ROUTE_TABLES = frozenset({ROUTE_TABLE, "azure:network/routeTable:RouteTable"})
ROUTES = frozenset({ROUTE, "azure:network/route:Route"})


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
        if args.resource_type in ROUTES:
            _standalone_routes[args.urn] = bag


# Standalone Route resources seen so far (Remediate and Analyze of kms-inputs), for the autofix of
# a route table registered after them. The engine sends a resource to the pack when the program
# registers it (§1.3 step 2), so a Route that names its table through ``table.name`` always comes
# after the table: then the table's Remediate cannot know it, and kms-reachability reports the
# duplicate the autofix made (``duplicate_routes``). A Route naming its table by a plain string
# may be registered first; then the autofix counts its prefix as declared.
_standalone_routes: dict[str, Mapping[str, Any]] = {}


def _known_text(value: Any) -> str | None:
    from kmsguard.remediate import is_unknown, plain

    value = plain(value)
    return value.lower() if isinstance(value, str) and value and not is_unknown(value) else None


def sibling_routes(table: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The standalone Routes recorded so far that name this table (routeTableName, and the same
    resource group where both are known), as route objects for ``plan_kms_routes``."""
    name = _known_text(table.get("routeTableName")) or _known_text(table.get("name"))
    if name is None:
        return []
    group = _known_text(table.get("resourceGroupName"))
    out: list[dict[str, Any]] = []
    for route in tuple(_standalone_routes.values()):
        if _known_text(route.get("routeTableName")) != name:
            continue
        other = _known_text(route.get("resourceGroupName"))
        if group is not None and other is not None and other != group:
            continue
        out.append(
            {
                "name": route.get("routeName", route.get("name")),
                "addressPrefix": route.get("addressPrefix"),
                "nextHopType": route.get("nextHopType"),
            }
        )
    return out


# --- kms-reachability's config, for the autofix -------------------------------------------------

# The config lives once, on kms-reachability (DESIGN), but pulumi_policy gives each policy only its
# own config, so the autofix cannot read ``internetNextHopDenied`` through its args, nor
# kms-unverified the config its analysis needs. Configure precedes every Remediate (§1.3 step 1.6):
# the pack's Configure is wrapped to record kms-reachability's properties in the call scopes'
# module (a read-only copy; nothing the SDK does changes). It reads only the Configure request of
# the gRPC protocol, no SDK internals, so it is wired on import, whatever the SDK version.


def remember_reachability_config() -> bool:
    """Record kms-reachability's config at each Configure. Idempotent; installed on import."""
    from kmsguard.policies.servicer import servicer_class

    servicer = servicer_class()
    if servicer is None:
        return False
    method: Any = servicer.Configure
    if getattr(method, "_kmsguard_remembers_config", False):
        return True

    import functools

    @functools.wraps(method)
    def wrapped(self: Any, request: Any, context: Any) -> Any:
        try:
            from kmsguard.provider.wire import struct_to_dict

            props: Any = (
                struct_to_dict(request.policyConfig[REACHABILITY].properties)
                if REACHABILITY in request.policyConfig
                else {}
            )
        except Exception:  # never fail Configure; an unreadable config is a landing zone for the autofix
            props = None
        _config_unreadable[0] = props is None
        call_scope.record_reachability_config(props if isinstance(props, dict) else {})
        # Configure starts each engine operation (§1.3): routes of an earlier one are not this one's.
        _standalone_routes.clear()
        return method(self, request, context)

    wrapped._kmsguard_remembers_config = True  # type: ignore[attr-defined]
    servicer.Configure = wrapped
    return True


# Whether the last Configure's kms-reachability config could not be read: the autofix then adds no
# Internet route (fails closed), since it cannot tell whether next hop Internet is denied.
_config_unreadable = [False]


def internet_next_hop_denied() -> bool:
    """kms-reachability's ``internetNextHopDenied`` as configured (a landing-zone policy)."""
    return _config_unreadable[0] or call_scope.reachability_config().get("internetNextHopDenied") is True


# --- one analysis per AnalyzeStack call, shared by the stack policies ----------------------------


def _fingerprint(args: StackValidationArgs) -> tuple[str, ...]:
    return tuple(r.urn for r in args.resources)


def analyze_resources(
    resources: Sequence[PulumiResource],
    config: Mapping[str, Any],
    *,
    into: Shared | None = None,
    settings: Settings | None = None,
) -> NetworkResult:
    """The analysis the stack policies report: collect + analyze under the ``kms-reachability`` config.

    A pure function of its arguments, so in-process evaluation gives exactly the pack's verdicts.
    Raises ``ValidationError`` (naming the key) for a bad config; the config is checked before
    anything is collected. ``into``: the call's shared slot, which gets the collected ``Network``
    (for ``kms-client-activation``) as soon as it exists, so a later error still leaves it.
    ``settings``: ``config`` already parsed by the caller, so it is not parsed twice.
    """
    from kmsguard.analysis import analyze
    from kmsguard.collect.pulumi import collect
    from kmsguard.config import parse_settings
    from kmsguard.remediate.classic import in_classic_terms

    if settings is None:
        settings = parse_settings(config, REACHABILITY_CONFIG)
    network = collect(resources)
    if into is not None:
        into.network = network
    result = analyze(network, settings)
    if config.get("internetNextHopDenied") is True:
        result = firewall_instead_of_routes(result)
    # Fixes on classic (pulumi-azure) resources print pulumi-azure code, in the pack and every report.
    return in_classic_terms(result, network)


FIREWALL_CODE = (
    "rule_collections=[kmsguard.pulumi.kms_network_rule_collection(cloud)] on the hub's "
    "FirewallPolicyRuleCollectionGroup, or auto_kms_routes(internet_next_hop_denied=True, "
    "firewall_policy=policy, firewall_policy_name=policy.name, resource_group_name=rg.name)"
)


def firewall_instead_of_routes(result: NetworkResult) -> NetworkResult:
    """``internetNextHopDenied``: each "add /32 → Internet routes" fix becomes the firewall rule.

    Where a landing-zone policy forbids next hop Internet, the documented alternative is an Azure
    Firewall network rule allowing TCP 1688 to the KMS IPs (§3.3, §6.2; only network rules match
    TCP 1688), with the KMS traffic sent to that firewall: a tunnel to a VPN/ExpressRoute gateway
    never reaches it and stays blocked (§1.2). The replacement is not re-analysed, so the fixes
    are no longer marked as checked.
    """
    from dataclasses import replace

    from kmsguard.analysis import Fix

    subnets = []
    for subnet in result.subnets:
        if not any(f.kind == "add-routes" for f in subnet.fixes):
            subnets.append(subnet)
            continue
        fixes: list[Fix] = []
        for fix in subnet.fixes:
            if fix.kind != "add-routes":
                fixes.append(fix)
                continue
            routes = fix.data.get("routes")
            ips = [
                str(r.get("addressPrefix", "")).removesuffix("/32")
                for r in (routes if isinstance(routes, list) else [])
                if isinstance(r, dict)
            ]
            fixes.append(
                Fix(
                    "add-firewall-rule",
                    "the Azure Firewall that egresses this traffic",
                    None,
                    f"next hop Internet is denied (internetNextHopDenied), so instead of /32 → Internet routes on "
                    f"{fix.target}: allow TCP 1688 to {', '.join(ips) or 'the KMS IPs'} with a network rule on the "
                    "Azure Firewall that egresses this traffic (docs/rules.md#firewall-network-rules), and route the KMS traffic to that "
                    "firewall (VirtualAppliance), not to a VPN/ExpressRoute gateway: a tunnel to on-premises "
                    "never reaches the firewall, and KMS refuses an on-premises source (docs/rules.md#azure-public-source)",
                    FIREWALL_CODE,
                    {"ips": ips, "instead_of": fix.target},
                )
            )
        subnets.append(replace(subnet, fixes=tuple(fixes), fixes_verified=False))
    return replace(result, subnets=tuple(subnets))


@dataclass
class Shared:
    """What one AnalyzeStack call's stack policies share: built once, read by all, never written to."""

    key: tuple[str, ...]  # the URNs of the call's resources, in the order the engine sent them
    resources: list[PulumiResource]
    network: Network | None = None
    result: NetworkResult | None = None
    # The kms-reachability config ``result`` was analysed under.
    config: Mapping[str, Any] | None = None
    # kms-reachability rejected its config in this call (it reported the key, once, at its level).
    config_rejected: bool = False


def _stack_resources(args: StackValidationArgs) -> list[PulumiResource]:
    from kmsguard.collect.resource import PulumiResource

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
    from kmsguard.collect.resource import merge_inputs

    inputs = _inputs_by_urn.get(urn)
    if inputs is None or not isinstance(outputs, Mapping):
        return outputs
    return merge_inputs(outputs, inputs)


def shared_for(args: StackValidationArgs) -> Shared:
    """This call's shared slot: the one an earlier stack policy of the call filled, or a fresh one.

    The slot lives on the call's ``CallScope`` (``kmsguard.policies.scope``), so it can never outlive
    its call or be taken for another call's. Without a scope (the SDK as it is: in-process use, or an
    unsupported pulumi_policy) every stack policy gets a fresh slot and analyses on its own; the
    analysis is a pure function of the resources and the config, so the answers are the same.
    """
    scope = call_scope.current()
    key = _fingerprint(args)
    if scope is not None and scope.shared is not None and scope.shared.key == key:
        return scope.shared
    fresh = Shared(key, _stack_resources(args))
    if scope is not None:
        scope.shared = fresh
    return fresh


def release_after_each_call() -> bool:
    """Drop what the stack policies share when each ``AnalyzeStack`` call of the pack ends.

    The shared slot lives on the call's scope, which ends with the call; this installs the scopes
    (without the decoding memo or the collector pause). Idempotent; ``False`` on an unsupported
    pulumi_policy (nothing is changed then).
    """
    return call_scope.install(share_decoding=False, pause_gc=False)


def _analysis_for(args: StackValidationArgs, *, producer: bool) -> NetworkResult | None:
    """``kms-reachability`` (first in the pack) computes and shares; the others reuse it.

    Every analysis runs under kms-reachability's config for this call: the producer's own args, or,
    when kms-reachability is disabled or failed, the config the engine gave it (``reachability_config``),
    never the defaults in its place. ``None`` for the others when kms-reachability rejected its
    config in this call: the same config would fail the same way, and the key is reported once, by it.
    """
    shared = shared_for(args)
    if producer:
        from kmsguard.config import parse_settings

        config = args.get_config()
        shared.config_rejected = True
        settings = parse_settings(config, REACHABILITY_CONFIG)  # a bad key raises here, named
        shared.config_rejected = False
        shared.result = analyze_resources(shared.resources, config, into=shared, settings=settings)
        shared.config = config
        return shared.result
    if shared.result is not None or shared.config_rejected:
        return shared.result
    return analyze_resources(shared.resources, call_scope.reachability_config(), into=shared)


# --- secrets: Analyze and AnalyzeStack receive them unwrapped, Remediate wrapped ------------------

# pulumi_policy unwraps secrets before Analyze/AnalyzeStack, so a secret name or prefix would be
# echoed in a message. Remediate (which runs first for every resource, §1.3) still sees the Secret
# wrappers: the texts learnt there are redacted from every message. Shorter texts are not redacted
# (they would shred every message and hide nothing).
_secret_texts: set[str] = set()
_MIN_SECRET = 3
REDACTED = SECRET_PLACEHOLDER


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
        report(with_finding(f"kmsguard could not evaluate the stack: {exc}", Finding.NOT_EVALUATED), None)
    except Exception as exc:  # any escape would be a gRPC error or a silent pass
        tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
        report(
            with_finding(
                f"kmsguard internal error in {policy} (the stack was not verified): {tb}",
                Finding.NOT_EVALUATED,
            ),
            None,
        )


def _validate_reachability(args: StackValidationArgs, report: ReportViolation) -> None:
    report = _redacting(report)

    def run() -> None:
        from kmsguard.analysis import Verdict
        from kmsguard.policies.messages import blocked_message

        result = _analysis_for(args, producer=True)
        assert result is not None
        for subnet in result.subnets:
            if subnet.verdict is Verdict.BLOCKED:
                report(blocked_message(subnet), subnet.urn)
        network = shared_for(args).network
        if network is not None:
            for urn, message in duplicate_routes(network):
                report(with_finding(message, Finding.ROUTE_DUPLICATE), urn)

    _guarded(REACHABILITY, report, run)


def _validate_unverified(args: StackValidationArgs, report: ReportViolation) -> None:
    report = _redacting(report)

    def run() -> None:
        from kmsguard.analysis import Verdict
        from kmsguard.policies.messages import problem_message, unknown_message

        result = _analysis_for(args, producer=False)
        if result is None:
            return
        for problem in result.problems:
            report(problem_message(problem), problem.urn)
        for subnet in result.subnets:
            if subnet.verdict is Verdict.UNKNOWN:
                report(unknown_message(subnet), subnet.urn)

    _guarded(UNVERIFIED, report, run)


def duplicate_routes(network: Network) -> list[tuple[str | None, str]]:
    """Route tables where an inline route and a standalone ``Route`` declare the same KMS prefix.

    A RouteTable's PUT replaces its whole route list, so inline routes and standalone Routes on one
    table overwrite each other at every deployment and can delete each other (pulumi-mechanics
    §3.3, "Do not mix inline and standalone resource"); with the same prefix twice, which one Azure
    keeps changes from one `pulumi up` to the next. The usual cause is ``kms-route-autofix``: a
    Route that names its table through ``table.name`` is registered after the table, so the
    table's Remediate cannot see it (§1.3) and appends the same /32 inline. Only prefixes that
    contain a KMS IP are reported here (the mixing itself is a kms-unverified problem).
    """
    import ipaddress

    from kmsguard.analysis.match import parse_prefix
    from kmsguard.catalog import load_catalog

    catalog = load_catalog()
    kms = {ipaddress.IPv4Address(e.ip) for cloud in catalog.clouds.values() for e in cloud.endpoints}
    out: list[tuple[str | None, str]] = []
    for table in network.route_tables.values():
        if not isinstance(table.routes, tuple):
            continue
        inline = [r for r in table.routes if r.urn is None and isinstance(r.address_prefix, str)]
        standalone = [r for r in table.routes if r.urn is not None and isinstance(r.address_prefix, str)]
        pairs: list[str] = []
        for r in inline:
            prefix = parse_prefix(r.address_prefix)
            if prefix is None or not any(ip in prefix for ip in kms):
                continue
            for other in standalone:
                if isinstance(other.address_prefix, str) and parse_prefix(other.address_prefix) == prefix:
                    pairs.append(f"{prefix} (inline route {r.name}; standalone Route {other.name})")
        if pairs:
            out.append(
                (
                    table.origin.urn,
                    f"route table {table.origin.name}: the same KMS prefix is declared inline and as a standalone "
                    f"Route: {'; '.join(pairs)}. The table's PUT replaces its whole route list, so each "
                    "`pulumi up` overwrites one set with the other and KMS routing flaps. If kms-route-autofix "
                    "added the inline routes, it could not see the standalone Routes (they are registered after "
                    "the table): keep the KMS routes in one place only — set kms-route-autofix to disabled for "
                    "this stack and keep the standalone Routes (KmsRoutes), or drop them and let the autofix "
                    "add the inline routes.",
                )
            )
    return out


# --- kms-route-autofix ---------------------------------------------------------------------------


def _remediate_routes(args: ResourceValidationArgs) -> Mapping[str, Any] | None:
    """Append the missing /32 → Internet KMS routes to the table's inline routes (Remediate).

    Remediate receives unknowns as raw sentinel strings and secrets wrapped (§1.5), so the existing
    route objects are kept as they are and only new plain dicts are appended.
    """
    if args.resource_type not in ROUTE_TABLES:
        return None
    try:
        from kmsguard.remediate import plain, plan_kms_routes

        props = args.props
        bag = raw(props)
        if not isinstance(bag, dict):
            return None
        if internet_next_hop_denied():
            # Next hop Internet is forbidden here: kms-reachability proposes the firewall rule.
            return None
        # A secret route list is a Secret of proxies here; the proxy re-wraps the new list as secret.
        existing = raw(plain(bag.get("routes")))
        plan = plan_kms_routes(
            existing, bag.get("location"), bypass_appliances=False, standalone=sibling_routes(bag)
        )
        if not plan.added:
            return None
        props["routes"] = [*existing, *plan.added]  # type: ignore[index]
        return props
    except Exception:  # an escape fails the whole preview (§1.7); Analyze then reports the routes
        return None


def _diversion(diverted: Sequence[str]) -> str:
    """Where KMS traffic goes, never empty: with no route known to win, the reason is a route whose
    prefix cannot be read (secret, unknown during the preview, or malformed) that may win for it."""
    if diverted:
        return "; ".join(diverted)
    return (
        "wherever a route whose address prefix cannot be read here (secret, unknown during this preview, "
        "or malformed) sends it, which may be away from Internet"
    )


def _validate_routes(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Report what remediation could not (or, below the remediate level, did not) add."""
    report = _redacting(report)
    if args.resource_type not in ROUTE_TABLES:
        return
    try:
        from kmsguard.remediate import MAX_ROUTES, plan_kms_routes

        bag = raw(args.props)
        if not isinstance(bag, dict) or internet_next_hop_denied():
            # Denied: no route to propose; kms-reachability names the firewall rule instead.
            return
        plan = plan_kms_routes(
            bag.get("routes"), bag.get("location"), bypass_appliances=False, standalone=sibling_routes(bag)
        )
    except Exception as exc:  # an escape would fail the whole preview
        report(with_finding(f"kmsguard internal error in {AUTOFIX}: {exc!r}", Finding.NOT_EVALUATED), None)
        return
    if plan.over_limit:
        report(
            with_finding(
                f"route table {args.name}: the KMS routes cannot be added without exceeding the {MAX_ROUTES}-route "
                f"limit (docs/rules.md#route-limits); KMS traffic still goes {_diversion(plan.diverted)}. Consolidate routes, or allow TCP 1688 "
                "to the KMS IPs on the appliance.",
                Finding.ROUTE_LIMIT,
            ),
            None,
        )
    elif plan.added:
        listing = ", ".join(f"{r['addressPrefix']} → Internet ({r['name']})" for r in plan.added)
        report(
            with_finding(
                f"route table {args.name}: KMS traffic goes {_diversion(plan.diverted)}. Add {listing}.",
                Finding.ROUTE_MISSING,
            ),
            None,
        )
    for ip in plan.conflicts:
        report(
            with_finding(
                f"route table {args.name}: a user /32 route sends KMS IP {ip} to another next hop; kmsguard never "
                "rewrites user routes: change its nextHopType to Internet.",
                Finding.ROUTE_CONFLICT,
            ),
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
    if args.resource_type in ROUTES:
        bag = raw(args.props)
        if isinstance(bag, dict):
            _standalone_routes[args.urn] = bag


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

# Installed on import (not only by policy/__main__.py like the call-scoped wrappers): it changes
# nothing the SDK does, and a pack built from POLICIES without it would let the autofix add
# Internet routes where kms-reachability's config denies them.
remember_reachability_config()
