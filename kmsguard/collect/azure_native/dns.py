"""Private DNS zones, their record sets and VNet links; DNS Private Resolver forwarding rulesets.

Records live only in standalone ``PrivateRecordSet`` resources (a zone has no inline records), and
a ruleset's rules and VNet links only in ``ForwardingRule`` / ``PrivateResolverVirtualNetworkLink``
resources (pulumi-mechanics §3.1). A record set whose zone cannot be determined makes the records
of the zones it may belong to unknown, since an ``azkms`` A record there could decide resolution
(semantics §7.2); a ruleset link or rule that cannot be placed does the same to rulesets (§7.3).
"""

from __future__ import annotations

from kmsguard.collect.azure_native.stack import Res, Stack
from kmsguard.model import (
    DnsForwardingRuleset,
    DnsRecord,
    ForwardingRule,
    PrivateDnsZone,
    PrivateDnsZoneLink,
    Unknown,
)
from kmsguard.model.network import MaybeBool, MaybeRef, MaybeStr, Strs


def _required(value: MaybeStr) -> str | Unknown:
    return Unknown("missing") if value is None else value


_RECORD_VALUES = {"a": ("aRecords", "ipv4Address"), "aaaa": ("aaaaRecords", "ipv6Address")}


def _record(r: Res) -> DnsRecord | Unknown:
    rd = r.reader
    p = r.props
    name = rd.text(p, "relativeRecordSetName", "relativeRecordSetName") or rd.text(p, "name", "name")
    rtype = rd.text(p, "recordType", "recordType")
    if rtype is None:
        # Outputs carry the ARM type instead: "Microsoft.Network/privateDnsZones/A".
        arm_type = rd.text(p, "type", "type")
        rtype = arm_type.rsplit("/", 1)[-1] if isinstance(arm_type, str) else arm_type
    if not isinstance(name, str) or not isinstance(rtype, str):
        missing = "name" if not isinstance(name, str) else "type"
        return Unknown(f"the {missing} of record set {r.name} is not known")
    values: Strs = ()
    lowered = rtype.lower()
    if lowered in _RECORD_VALUES:
        key, field = _RECORD_VALUES[lowered]
        items = rd.seq(p, key, key)
        if isinstance(items, Unknown):
            values = items
        elif items is not None:
            found: list[str | Unknown] = []
            for i, node in enumerate(items):
                item = rd.to_dict(node, f"{key}[{i}]")
                found.append(
                    item
                    if isinstance(item, Unknown)
                    else _required(rd.text(item, field, f"{key}[{i}].{field}", "required"))
                )
            values = tuple(found)
    elif lowered == "cname":
        cname = rd.mapping(p, "cnameRecord", "cnameRecord")
        if isinstance(cname, Unknown):
            values = cname
        elif cname is not None:
            target = rd.text(cname, "cname", "cnameRecord.cname", "required")
            values = (target,) if target is not None else ()
    return DnsRecord(name, rtype, values)


def zone(stack: Stack, r: Res) -> PrivateDnsZone:
    rd = r.reader
    name: MaybeStr = rd.text(r.props, "privateZoneName", "privateZoneName") or rd.text(
        r.props, "name", "name"
    )
    if name is None:
        name = Unknown(f"the zone name of {r.name} is not known")
    records: tuple[DnsRecord, ...] | Unknown
    orphans = stack.orphans_of(r.urn, "PrivateRecordSet")
    if orphans:
        records = Unknown(
            f"record sets {', '.join(sorted(o.name for o in orphans))} may belong to zone {r.name}"
        )
    else:
        found: list[DnsRecord] = []
        records = ()
        for child in stack.children(r.urn, "PrivateRecordSet"):
            record = _record(child)
            if isinstance(record, Unknown):
                records = record
                break
            found.append(record)
        else:
            records = tuple(found)
    return PrivateDnsZone(r.urn, r.origin, name, records)


def zone_link(stack: Stack, r: Res) -> PrivateDnsZoneLink:
    p = r.props
    return PrivateDnsZoneLink(
        key=r.urn,
        origin=r.origin,
        zone=stack.parents.get(r.urn),
        vnet=stack.ref_field(r, p, "virtualNetwork", "virtualNetwork", ("VirtualNetwork",)),
        resolution_policy=r.reader.text(p, "resolutionPolicy", "resolutionPolicy"),
    )


def _rule(r: Res) -> ForwardingRule:
    rd = r.reader
    p = r.props
    name = rd.label(p, "forwardingRuleName", "forwardingRuleName", "") or rd.label(p, "name", "name", r.name)
    state = rd.text(p, "forwardingRuleState", "forwardingRuleState")
    enabled: MaybeBool
    if state is None:
        enabled = True  # the ARM default is Enabled
    elif isinstance(state, Unknown):
        enabled = state
    elif state.lower() in ("enabled", "disabled"):
        enabled = state.lower() == "enabled"
    else:
        enabled = rd.problem("forwardingRuleState", "expected Enabled or Disabled")
    targets: Strs = ()
    items = rd.seq(p, "targetDnsServers", "targetDnsServers")
    if isinstance(items, Unknown):
        targets = items
    elif items is not None:
        found: list[str | Unknown] = []
        for i, node in enumerate(items):
            item = rd.to_dict(node, f"targetDnsServers[{i}]")
            if isinstance(item, Unknown):
                found.append(item)
                continue
            found.append(
                _required(rd.text(item, "ipAddress", f"targetDnsServers[{i}].ipAddress", "required"))
            )
        targets = tuple(found)
    domain = rd.text(p, "domainName", "domainName", "required")
    return ForwardingRule(name, domain, enabled, targets)


def ruleset(stack: Stack, r: Res) -> DnsForwardingRuleset:
    rule_orphans = stack.orphans_of(r.urn, "ForwardingRule")
    rules: tuple[ForwardingRule, ...] | Unknown
    if rule_orphans:
        rules = Unknown(
            f"forwarding rules {', '.join(sorted(o.name for o in rule_orphans))} may belong to {r.name}"
        )
    else:
        rules = tuple(_rule(c) for c in stack.children(r.urn, "ForwardingRule"))
    vnets: list[MaybeRef] = [
        stack.ref_field(c, c.props, "virtualNetwork", "virtualNetwork", ("VirtualNetwork",))
        for c in stack.children(r.urn, "PrivateResolverVirtualNetworkLink")
    ]
    link_orphans = stack.orphans_of(r.urn, "PrivateResolverVirtualNetworkLink")
    if link_orphans:
        vnets.append(
            Unknown(f"links {', '.join(sorted(o.name for o in link_orphans))} may belong to {r.name}")
        )
    return DnsForwardingRuleset(r.urn, r.origin, rules, tuple(vnets))
