"""Filtering at the source (§4): AVNM admin rules, then the NIC's and the subnet's NSGs, with or
without the KMS platform rule (R4.1). The steps happen on the source's hop."""

from __future__ import annotations

from kmsguard.analysis.filtering import (
    ALLOW,
    ALWAYS_ALLOW,
    DENY,
    Decision,
    evaluate_admin_rules,
    evaluate_nsg,
    lkm_denies,
    lkm_fix,
    nsg_allow_fix,
)
from kmsguard.analysis.match import IPv4Address, Tri, ip_sort_key
from kmsguard.analysis.source import SourceContext
from kmsguard.analysis.trace import Say, Sentence, StepKind
from kmsguard.analysis.verdict import Fix, Outcome, Step, combine
from kmsguard.catalog import KMS_PORT
from kmsguard.findings import Finding
from kmsguard.model import NetworkSecurityGroup, Unknown


def filtering_steps(ctx: SourceContext, ip: IPv4Address) -> list[Step]:
    steps: list[Step] = []
    admin = _admin(ctx, ip)
    admin_may_always_allow = False
    if admin is not None:
        step, stop, admin_may_always_allow = admin
        steps.append(step)
        if stop:
            return steps
    if ctx.forced_tunnel is Tri.YES:
        steps.append(_ft_note(ctx))
        nsg_steps = _nsg_normal(ctx, ip)
    elif ctx.forced_tunnel is Tri.NO:
        nsg_steps = _nsg_platform(ctx, ip)
    else:
        normal, platform = _nsg_normal(ctx, ip), _nsg_platform(ctx, ip)
        if combine(s.outcome for s in normal) == combine(s.outcome for s in platform):
            nsg_steps = platform if combine(s.outcome for s in platform).value == "reachable" else normal
            nsg_steps = [
                Step(
                    StepKind.NSG,
                    Sentence(Say.PLATFORM_RULE_MOOT, reason=ctx.forced_tunnel_why),
                    hop=ctx.hop,
                ),
                *nsg_steps,
            ]
        else:
            nsg_steps = [
                Step(
                    StepKind.NSG,
                    Sentence(Say.PLATFORM_RULE_DECIDES, reason=ctx.forced_tunnel_why),
                    Outcome.UNKNOWN,
                    settle="make the 0.0.0.0/0 route known, or let the NSGs allow TCP 1688 to the KMS IPs",
                    finding=Finding.UNKNOWN_FILTERING,
                    hop=ctx.hop,
                ),
                *[s for s in normal if s.outcome is not Outcome.BLOCK],
            ]
    if admin_may_always_allow:
        nsg_steps = [
            Step(
                s.kind,
                Sentence(Say.MAY_BE_BYPASSED, base=s.what),
                Outcome.UNKNOWN,
                s.urn,
                finding=Finding.UNKNOWN_FILTERING,
                hop=s.hop,
            )
            if s.outcome is Outcome.BLOCK
            else s
            for s in nsg_steps
        ]
    steps.extend(nsg_steps)
    return steps


def _ft_note(ctx: SourceContext) -> Step:
    route = ctx.forced_tunnel_route
    return Step(
        StepKind.NSG,
        Sentence(Say.PLATFORM_RULE_OFF, route=route.ref if route else None),
        Outcome.INFO,
        route.urn if route else None,
        hop=ctx.hop,
    )


def _admin(ctx: SourceContext, ip: IPv4Address) -> tuple[Step, bool, bool] | None:
    """§4.1: AVNM admin rules before NSGs. Returns (step, stop evaluation, may AlwaysAllow)."""
    vnet_ref = ctx.subnet.vnet
    rules = (
        [(r, True) for r in ctx.index.admin_rules_by_vnet.get(vnet_ref, ())]
        if isinstance(vnet_ref, str)
        else []
    )
    rules += [(r, False) for r in ctx.index.admin_rules_vnet_unknown]
    if not rules:
        return None
    decision = evaluate_admin_rules(rules, ip, ctx.src, ctx.index.cache("admin-compiled"))
    acts = decision.actions
    if acts == {ALWAYS_ALLOW}:
        return (
            Step(
                StepKind.ADMIN_RULE,
                Sentence(Say.ADMIN_ALWAYS_ALLOW, rule=decision.ref),
                Outcome.PASS,
                hop=ctx.hop,
            ),
            True,
            True,
        )
    if acts == {DENY}:
        if ctx.forced_tunnel is Tri.YES:
            return (
                Step(
                    StepKind.ADMIN_RULE,
                    Sentence(Say.ADMIN_DENY, rule=decision.ref),
                    Outcome.BLOCK,
                    fix=Fix(
                        "change-admin-rule",
                        decision.rule,
                        None,
                        f"{decision.rule}: let outbound TCP {KMS_PORT} to the KMS IPs through (an AlwaysAllow rule with a lower priority number)",
                    ),
                    finding=Finding.ADMIN_RULE_DENY,
                    hop=ctx.hop,
                ),
                True,
                False,
            )
        return (
            Step(
                StepKind.ADMIN_RULE,
                Sentence(Say.ADMIN_DENY_UNDOCUMENTED, rule=decision.ref),
                Outcome.UNKNOWN,
                settle="exclude TCP 1688 to the KMS IPs from the admin Deny rule",
                finding=Finding.UNKNOWN_FILTERING,
                hop=ctx.hop,
            ),
            True,
            False,
        )
    if acts == {ALLOW}:
        if decision.rule:
            return (
                Step(
                    StepKind.ADMIN_RULE,
                    Sentence(Say.ADMIN_ALLOW, rule=decision.ref),
                    hop=ctx.hop,
                ),
                False,
                False,
            )
        return Step(StepKind.ADMIN_RULE, Sentence(Say.ADMIN_NO_MATCH), hop=ctx.hop), False, False
    return (
        Step(
            StepKind.ADMIN_RULE,
            Sentence(Say.ADMIN_UNKNOWN, values=decision.why),
            Outcome.UNKNOWN,
            settle="make the admin rules known",
            finding=Finding.UNKNOWN_FILTERING,
            hop=ctx.hop,
        ),
        False,
        ALWAYS_ALLOW in acts,
    )


def _nsgs(ctx: SourceContext) -> list[tuple[str, NetworkSecurityGroup | None, str, str | None]]:
    """(level, NSG or None, problem, urn) for the NIC then the subnet (§4.1: NIC first)."""
    out: list[tuple[str, NetworkSecurityGroup | None, str, str | None]] = []
    for level, ref, owner in (
        ("NIC", ctx.nic.nsg if ctx.nic else None, ctx.nic),
        ("subnet", ctx.subnet.nsg, ctx.subnet),
    ):
        if ref is None:
            continue
        name = owner.origin.name if owner is not None else ""
        urn = owner.origin.urn if owner is not None else None
        if isinstance(ref, Unknown):
            out.append((level, None, f"the NSG of {level} {name} is unknown ({ref.why})", urn))
        elif ref not in ctx.index.network.nsgs:
            out.append((level, None, f"NSG {ref} of {level} {name} is outside the stack", urn))
        else:
            out.append((level, ctx.index.network.nsgs[ref], "", urn))
    return out


def _nsg_normal(ctx: SourceContext, ip: IPv4Address) -> list[Step]:
    steps: list[Step] = []
    nsgs = _nsgs(ctx)
    if not nsgs:
        return [Step(StepKind.NSG, Sentence(Say.NSG_NONE), Outcome.PASS, hop=ctx.hop)]
    for _level, nsg, problem, urn in nsgs:
        if nsg is None:
            steps.append(_missing_nsg(ctx, Say.NSG_MISSING, problem, urn))
            continue
        decision = _nsg_decision(ctx, nsg, ip)
        act = decision.decided
        if act == DENY:
            fix = nsg_allow_fix(nsg, decision.rule_priority, sorted(ctx.cloud.ips, key=ip_sort_key))
            steps.append(
                Step(
                    StepKind.NSG,
                    Sentence(Say.NSG_DENY, rule=decision.ref),
                    Outcome.BLOCK,
                    nsg.origin.urn,
                    fix=fix,
                    finding=Finding.NSG_DENY,
                    hop=ctx.hop,
                )
            )
            return steps  # §4.1: a NIC-level deny ends evaluation.
        if act == ALLOW:
            steps.append(
                Step(
                    StepKind.NSG,
                    Sentence(Say.NSG_ALLOW, rule=decision.ref),
                    Outcome.PASS,
                    nsg.origin.urn,
                    hop=ctx.hop,
                )
            )
        else:
            steps.append(
                Step(
                    StepKind.NSG,
                    Sentence(Say.NSG_UNDECIDED, subject=nsg.origin.name, ip=str(ip), values=decision.why),
                    Outcome.UNKNOWN,
                    nsg.origin.urn,
                    settle="make the NSG rules known, or add an explicit Allow for TCP 1688 to the KMS IPs",
                    finding=Finding.UNKNOWN_FILTERING,
                    hop=ctx.hop,
                )
            )
    return steps


def _nsg_decision(ctx: SourceContext, nsg: NetworkSecurityGroup, ip: IPv4Address) -> Decision:
    """``evaluate_nsg``, remembered: a subnet and each of its NICs usually ask the same question of
    the same NSG (rules walked in priority order, up to 1,000 of them). The NSG object is part of the
    key and kept in the entry, so the entry stays valid in the repair loop's copies of the network."""

    def decide() -> Decision:
        return evaluate_nsg(nsg, ip, ctx.src, ctx.index.cache("nsg-compiled"))[0]

    return ctx.index.remember("nsg-decision", ("nsg-decision", id(nsg), ip, ctx.src), nsg, decide)


def _missing_nsg(ctx: SourceContext, say: Say, problem: str, urn: str | None) -> Step:
    """An NSG the source is attached to but the stack does not describe: its rules are unknown."""
    return Step(
        StepKind.NSG,
        Sentence(say, reason=problem),
        Outcome.UNKNOWN,
        urn,
        settle="describe the NSG in the stack",
        finding=Finding.UNKNOWN_FILTERING,
        hop=ctx.hop,
    )


def _nsg_platform(ctx: SourceContext, ip: IPv4Address) -> list[Step]:
    steps: list[Step] = []
    for _level, nsg, problem, urn in _nsgs(ctx):
        if nsg is None:
            steps.append(_missing_nsg(ctx, Say.NSG_MISSING_LKM, problem, urn))
            continue
        match, ref, rule, why = lkm_denies(nsg, ip, ctx.src, ctx.index.cache("nsg-compiled"))
        if match is Tri.YES and rule is not None:
            steps.append(
                Step(
                    StepKind.NSG,
                    Sentence(Say.NSG_LKM_DENY, rule=ref),
                    Outcome.BLOCK,
                    rule.urn or nsg.origin.urn,
                    fix=lkm_fix(nsg, rule),
                    finding=Finding.NSG_LKM_DENY,
                    hop=ctx.hop,
                )
            )
        elif match is Tri.MAYBE:
            steps.append(
                Step(
                    StepKind.NSG,
                    Sentence(Say.NSG_LKM_MAYBE, rule=ref, subject=nsg.origin.name, reason=why),
                    Outcome.UNKNOWN,
                    nsg.origin.urn,
                    settle="make the rule known",
                    finding=Finding.UNKNOWN_FILTERING,
                    hop=ctx.hop,
                )
            )
    if not any(s.outcome is not Outcome.PASS for s in steps):
        steps.append(Step(StepKind.NSG, Sentence(Say.PLATFORM_RULE_ON), Outcome.PASS, hop=ctx.hop))
    return steps
