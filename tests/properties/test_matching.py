"""Prefix, port, tri-state and NSG first-match semantics against references written from the spec.

docs/azure-kms-semantics.md §4.2 (NSG matching: priorities, first match, protocol, ports ``*``/``n``/
``a-b``/lists, CIDR containment, service tags), §4.3 (default rules) and §4.5 (KMS platform rule).
The references below are deliberately written without kmsguard's helpers (integer arithmetic for
containment, ``str.split`` for port ranges) so that an agreement means something.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Sequence
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from kmsguard.analysis import Verdict, analyze
from kmsguard.analysis.filtering import DEFAULT_OUTBOUND, FlowSource, first_match, match_security_rule
from kmsguard.analysis.match import (
    Tri,
    covers_all,
    looks_like_address,
    parse_port_range,
    parse_prefix,
    port_matches,
    prefix_contains_ip,
    tri_all,
    tri_any,
)
from kmsguard.collect.description import parse_description
from kmsguard.model import SecurityRule, Unknown

from .support import KMS_IPS, any_case, one_of_any_case, scaled

IPv4Address = ipaddress.IPv4Address
IPv4Network = ipaddress.IPv4Network
KMS_PORT = 1688

# ------------------------------------------------------------------------------------------------
# Prefixes (§4.2 "CIDR containment")

addresses = st.integers(0, 2**32 - 1).map(IPv4Address)
prefix_lengths = st.integers(0, 32)


def mask(length: int) -> int:
    return (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF


def ref_contains(base: IPv4Address, length: int, ip: IPv4Address) -> bool:
    """Reference containment by integer arithmetic: same leading ``length`` bits."""
    return int(ip) & mask(length) == int(base) & mask(length)


@st.composite
def prefix_texts(draw: st.DrawFn) -> str:
    """Well-formed prefixes in the notations ``ipaddress`` accepts (host bits allowed)."""
    ip = draw(addresses)
    length = draw(prefix_lengths)
    form = draw(st.sampled_from(["cidr", "bare", "netmask", "hostmask"]))
    zero = IPv4Network(f"0.0.0.0/{length}")
    if form == "cidr":
        return f"{ip}/{length}"
    if form == "bare":
        return str(ip)
    if form == "netmask":
        return f"{ip}/{zero.netmask}"
    return f"{ip}/{zero.hostmask}"


WHITESPACE = st.sampled_from(["", " ", "  ", "\t", "\n", " \t"])

# Malformed prefixes: out-of-range lengths and octets, truncations, junk, lookalike digits.
MALFORMED_PREFIXES = [
    "10.0.0.0/33",
    "10.0.0.0/-1",
    "10.0.0.0/",
    "/8",
    "10.0.0/8",
    "10.0.0.0.0/8",
    "256.0.0.0/8",
    "10.0.0.0/8/8",
    "10.0.0.0 /8",
    "10.0.0.0/ 8",
    "10.0.0.0/+8",
    "10.0.0.0/٨",
    "１０.0.0.0/8",
    "abc",
    "",
    "Internet",
    "0x0a.0.0.0/8",
]


@st.composite
def prefix_like_texts(draw: st.DrawFn) -> str:
    """Anything a user may type into an address prefix, mostly close to a real prefix."""
    kind = draw(st.sampled_from(["valid", "malformed", "mutated", "text"]))
    if kind == "valid":
        return draw(WHITESPACE) + draw(prefix_texts()) + draw(WHITESPACE)
    if kind == "malformed":
        return draw(st.sampled_from(MALFORMED_PREFIXES))
    if kind == "mutated":
        text = draw(prefix_texts())
        i = draw(st.integers(0, len(text)))
        return text[:i] + draw(st.sampled_from(["/", ".", "-", " ", "9", "x", "²", "/33"])) + text[i:]
    return draw(st.text(alphabet=st.characters(codec="utf-8"), max_size=20))


@settings(max_examples=scaled(300))
@given(prefix_texts())
def test_parse_prefix_equals_ipaddress(text: str) -> None:
    assert parse_prefix(text) == IPv4Network(text, strict=False)


@settings(max_examples=scaled(300))
@given(prefix_like_texts())
@example(" 10.0.0.0/8")
@example("10.0.0.0/8 ")
def test_parse_prefix_is_ipaddress_or_none(text: str) -> None:
    """Malformed text is never read as a network, and surrounding whitespace is tolerated on both
    sides alike (``parse_prefix`` strips it; a leading blank must not turn a CIDR into a service tag)."""
    try:
        expected: IPv4Network | None = IPv4Network(text.strip(), strict=False)
    except ValueError:
        expected = None
    assert parse_prefix(text) == expected
    if expected is not None:
        assert looks_like_address(text)


@settings(max_examples=scaled(300))
@given(addresses, prefix_lengths, st.integers(0, 32), st.integers(0, 2**32 - 1))
def test_prefix_containment_agrees_with_integer_arithmetic(
    base: IPv4Address, length: int, flip_bits: int, noise: int
) -> None:
    # Flip only the low ``flip_bits`` bits of ``base`` so both outcomes are common.
    ip = IPv4Address(int(base) ^ (noise & ((1 << flip_bits) - 1)))
    net = parse_prefix(f"{base}/{length}")
    assert net is not None
    assert prefix_contains_ip(net, ip) is ref_contains(base, length, ip)


def ref_covers_all(prefix: IPv4Network, sources: Sequence[IPv4Network]) -> Tri:
    def span(n: IPv4Network) -> tuple[int, int]:
        return int(n.network_address), int(n.broadcast_address)

    if not sources:
        return Tri.MAYBE
    lo, hi = span(prefix)
    inside = [lo <= span(s)[0] and span(s)[1] <= hi for s in sources]
    overlap = [span(s)[0] <= hi and lo <= span(s)[1] for s in sources]
    if all(inside):
        return Tri.YES
    return Tri.MAYBE if any(overlap) else Tri.NO


networks = st.builds(lambda ip, n: IPv4Network(f"{ip}/{n}", strict=False), addresses, st.integers(0, 32))


@st.composite
def related_networks(draw: st.DrawFn) -> tuple[IPv4Network, list[IPv4Network]]:
    """A prefix and sources that are often inside, around or beside it."""
    prefix = draw(networks)
    sources = []
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["inside", "around", "random"]))
        if kind == "inside":
            length = draw(st.integers(prefix.prefixlen, 32))
            offset = draw(st.integers(0, prefix.num_addresses - 1))
            sources.append(IPv4Network(f"{prefix.network_address + offset}/{length}", strict=False))
        elif kind == "around":
            sources.append(prefix.supernet(new_prefix=draw(st.integers(0, prefix.prefixlen))))
        else:
            sources.append(draw(networks))
    return prefix, sources


@settings(max_examples=scaled(200))
@given(related_networks())
def test_covers_all_agrees_with_reference(case: tuple[IPv4Network, list[IPv4Network]]) -> None:
    prefix, sources = case
    assert covers_all(prefix, sources) is ref_covers_all(prefix, sources)


# ------------------------------------------------------------------------------------------------
# Tri-state combinators


tris = st.sampled_from(list(Tri))


@given(st.lists(tris, max_size=6))
def test_tri_any_and_tri_all_are_max_and_min(items: list[Tri]) -> None:
    assert tri_any(items) is max(items, default=Tri.NO)
    assert tri_all(items) is min(items, default=Tri.YES)


# ------------------------------------------------------------------------------------------------
# Ports (§4.2: "*", a number, or an inclusive range a-b; arrays of those)

DIGITS = "0123456789"


def ref_port_range(text: str) -> tuple[int, int] | None:
    """§4.2 port syntax. Surrounding whitespace is tolerated as for every other value kmsguard
    reads (``canonical``); anything else that is not ASCII digits, ``*`` or one ``-`` is malformed."""
    s = text.strip()
    if s == "*":
        return (0, 65535)
    parts = s.split("-")
    if len(parts) > 2 or not all(p and all(c in DIGITS for c in p) for p in parts):
        return None
    lo, hi = int(parts[0]), int(parts[-1])
    return (lo, hi) if lo <= hi <= 65535 else None


def to_fullwidth(text: str) -> str:
    return text.translate({ord(d): 0xFF10 + i for i, d in enumerate(DIGITS)})


def to_arabic_indic(text: str) -> str:
    return text.translate({ord(d): 0x0660 + i for i, d in enumerate(DIGITS)})


port_numbers = st.one_of(
    st.integers(0, 65535),
    st.sampled_from([0, 1, 1687, 1688, 1689, 65535, 65536, 70000, 99999999]),
)


@st.composite
def port_texts(draw: st.DrawFn) -> str:
    """Valid and malformed port strings: reversed, too large, negative, spaces, empty, lookalikes."""
    a, b = draw(port_numbers), draw(port_numbers)
    kind = draw(
        st.sampled_from(
            ["star", "number", "range", "padded", "spaced", "negative", "broken", "lookalike", "text"]
        )
    )
    if kind == "star":
        return "*"
    if kind == "number":
        return str(a)
    if kind == "range":
        return f"{a}-{b}"
    if kind == "padded":
        return draw(WHITESPACE) + draw(st.sampled_from([str(a), f"{a}-{b}", "*"])) + draw(WHITESPACE)
    if kind == "spaced":
        return draw(st.sampled_from([f"{a} - {b}", f"{a} -{b}", f"{a}- {b}", f"{a} {b}", "1 688"]))
    if kind == "negative":
        return draw(st.sampled_from([f"-{a}", f"-{a}-{b}", f"{a}--{b}", f"{a}-{b}-", "-"]))
    if kind == "broken":
        return draw(
            st.sampled_from(
                ["", " ", "**", "* ", "1688,1689", f"+{a}", f"{a}-", f"{a}-{b}-{a}", "Any", "0x6a0", "1688.0"]
            )
        )
    if kind == "lookalike":
        return draw(
            st.sampled_from(
                [to_fullwidth(str(a)), to_arabic_indic(str(a)), "²", "¹⁶⁸⁸", f"{a}-{to_fullwidth(str(b))}"]
            )
        )
    return draw(st.text(alphabet=st.characters(codec="utf-8"), max_size=8))


@settings(max_examples=scaled(400))
@given(port_texts())
@example("²")
@example("１６８８")
@example(" 1688 ")
@example("1000 - 2000")
def test_parse_port_range_agrees_with_reference(text: str) -> None:
    assert parse_port_range(text) == ref_port_range(text)


def ref_port_match(items: Sequence[str | Unknown] | Unknown, port: int) -> Tri:
    if isinstance(items, Unknown) or not items:
        return Tri.MAYBE  # unknown or empty: malformed, never a match
    ranges = [None if isinstance(i, Unknown) else ref_port_range(i) for i in items]
    if any(r is not None and r[0] <= port <= r[1] for r in ranges):
        return Tri.YES
    return Tri.MAYBE if any(r is None for r in ranges) else Tri.NO


port_items = st.one_of(port_texts(), st.just(Unknown("port")))
port_lists: st.SearchStrategy[tuple[str | Unknown, ...] | Unknown] = st.one_of(
    st.lists(port_items, max_size=4).map(tuple), st.just(Unknown("ports"))
)


@settings(max_examples=scaled(300))
@given(port_lists, st.one_of(st.just(KMS_PORT), st.integers(0, 65535)))
def test_port_matches_agrees_with_reference(items: tuple[str | Unknown, ...] | Unknown, port: int) -> None:
    assert port_matches(items, port, [], "destination port") is ref_port_match(items, port)


@settings(max_examples=scaled(200))
@given(st.lists(port_texts().filter(lambda t: ref_port_range(t) is None), min_size=1, max_size=4))
def test_malformed_ports_never_match(items: list[str]) -> None:
    why: list[str] = []
    assert port_matches(tuple(items), KMS_PORT, why, "destination port") is Tri.MAYBE
    assert why, "a malformed port must say why it is not a match"


# ------------------------------------------------------------------------------------------------
# NSG first match (§4.2, §4.3)


@dataclasses.dataclass(frozen=True)
class Flow:
    """The KMS flow from one NIC: its private IP and subnet, the VNet space, the KMS IP."""

    src: IPv4Address
    subnet: IPv4Network
    vnet_space: tuple[IPv4Network, ...]
    dst: IPv4Address

    def source(self) -> FlowSource:
        return FlowSource((self.subnet,), self.src, self.vnet_space)


@dataclasses.dataclass(frozen=True)
class RuleSpec:
    """A fully known NSG rule as the test sees it; ``model`` is what kmsguard reads."""

    name: str
    priority: int
    direction: str
    access: str
    protocol: str
    sources: tuple[str, ...]
    source_ports: tuple[str, ...]
    destinations: tuple[str, ...]
    destination_ports: tuple[str, ...]

    def model(self) -> SecurityRule:
        return SecurityRule(
            self.name,
            self.priority,
            self.direction,
            self.access,
            self.protocol,
            self.sources,
            self.source_ports,
            self.destinations,
            self.destination_ports,
        )


# §4.3 default outbound rules, from the doc's table.
DEFAULT_SPECS = (
    RuleSpec(
        "AllowVnetOutBound",
        65000,
        "Outbound",
        "Allow",
        "*",
        ("VirtualNetwork",),
        ("*",),
        ("VirtualNetwork",),
        ("*",),
    ),
    RuleSpec(
        "AllowInternetOutBound",
        65001,
        "Outbound",
        "Allow",
        "*",
        ("0.0.0.0/0",),
        ("*",),
        ("Internet",),
        ("*",),
    ),
    RuleSpec(
        "DenyAllOutBound", 65500, "Outbound", "Deny", "*", ("0.0.0.0/0",), ("*",), ("0.0.0.0/0",), ("*",)
    ),
)


def test_default_outbound_rules_are_the_documented_ones() -> None:
    assert tuple(DEFAULT_OUTBOUND) == tuple(s.model() for s in DEFAULT_SPECS)


def ref_in(net_text: str, ip: IPv4Address) -> bool:
    base, _, length = net_text.partition("/")
    return ref_contains(IPv4Address(base), int(length or 32), ip)


def ref_destination_item(item: str, flow: Flow) -> bool:
    c = item.lower()
    if c in ("*", "internet", "azureplatformlkm"):
        # Every KMS IP is in Internet [A1] and in AzurePlatformLKM (§4.5). kmsguard, like the doc's
        # scenarios, assumes a KMS IP is never inside a VNet's own address space.
        return True
    if c in ("azureloadbalancer", "azureplatformdns", "azureplatformimds"):
        return False
    if c == "virtualnetwork":
        return any(flow.dst in n for n in flow.vnet_space)
    return ref_in(item, flow.dst)


def ref_source_item(item: str, flow: Flow) -> bool:
    c = item.lower()
    if c in ("*", "virtualnetwork"):
        return True
    if not c[:1].isdigit():
        return False  # a VM's private IP is in no service tag but VirtualNetwork
    return ref_in(item, flow.src)


def ref_rule_matches(rule: RuleSpec, flow: Flow) -> bool:
    return (
        rule.direction.lower() == "outbound"
        and rule.protocol.lower() in ("tcp", "*")
        and any(r in ("*", "0-65535") for r in rule.source_ports)
        and any(
            (r := ref_port_range(p)) is not None and r[0] <= KMS_PORT <= r[1] for p in rule.destination_ports
        )
        and any(ref_source_item(s, flow) for s in rule.sources)
        and any(ref_destination_item(d, flow) for d in rule.destinations)
    )


def ref_first_match(rules: Sequence[RuleSpec], flow: Flow) -> RuleSpec | None:
    matching = [r for r in rules if ref_rule_matches(r, flow)]
    return min(matching, key=lambda r: r.priority) if matching else None


@st.composite
def flows(draw: st.DrawFn) -> Flow:
    dst = draw(st.sampled_from(KMS_IPS))
    src = IPv4Address(draw(st.integers(int(IPv4Address("10.0.0.0")), int(IPv4Address("10.255.255.255")))))
    subnet = IPv4Network(f"{src}/{draw(st.integers(16, 29))}", strict=False)
    space = [subnet.supernet(new_prefix=draw(st.integers(8, subnet.prefixlen)))]
    # Sometimes the VirtualNetwork tag also covers the KMS IP (a peered or odd address space), so
    # that "VirtualNetwork" destinations are exercised both ways.
    if draw(st.booleans()):
        space.append(IPv4Network(f"{dst}/{draw(st.integers(8, 32))}", strict=False))
    return Flow(src, subnet, tuple(space), dst)


def near(ip: IPv4Address) -> st.SearchStrategy[str]:
    """A CIDR text that contains ``ip`` (host bits kept, as users write them) or a random one."""
    containing = st.integers(0, 32).map(lambda n: f"{ip}/{n}")
    return st.one_of(containing, networks.map(str), st.just(str(ip)))


def destination_items(flow: Flow) -> st.SearchStrategy[str]:
    return st.one_of(
        one_of_any_case(
            [
                "*",
                "Internet",
                "VirtualNetwork",
                "AzurePlatformLKM",
                "AzureLoadBalancer",
                "AzurePlatformDNS",
                "AzurePlatformIMDS",
            ]
        ),
        st.just("0.0.0.0/0"),
        near(flow.dst),
    )


def source_items(flow: Flow) -> st.SearchStrategy[str]:
    return st.one_of(
        one_of_any_case(["*", "VirtualNetwork", "Internet", "AzureCloud", "Storage.EastUS"]),
        st.just("0.0.0.0/0"),
        near(flow.src),
    )


destination_port_items = st.sampled_from(
    ["*", "1688", "1688-1688", "1000-2000", "80", "443", "1689-65535", "0-1687", "1-65535"]
)


@st.composite
def rule_specs(draw: st.DrawFn, flow: Flow, priority: int, name: str) -> RuleSpec:
    return RuleSpec(
        name,
        priority,
        draw(st.one_of(any_case("Outbound"), any_case("Outbound"), any_case("Inbound"))),
        draw(one_of_any_case(["Allow", "Deny"])),
        draw(one_of_any_case(["Tcp", "*", "*", "Udp", "Icmp", "Esp", "Ah"])),
        tuple(draw(st.lists(source_items(flow), min_size=1, max_size=3))),
        (draw(st.sampled_from(["*", "0-65535"])),),
        tuple(draw(st.lists(destination_items(flow), min_size=1, max_size=3))),
        tuple(draw(st.lists(destination_port_items, min_size=1, max_size=3))),
    )


@st.composite
def rule_sets(draw: st.DrawFn, min_priority: int = 100) -> tuple[Flow, list[RuleSpec]]:
    flow = draw(flows())
    priorities = draw(st.lists(st.integers(min_priority, 4096), max_size=8, unique=True))
    rules = [draw(rule_specs(flow, p, f"rule-{i}")) for i, p in enumerate(priorities)]
    return flow, rules


def canonical_access(access: str) -> str:
    return {"allow": "Allow", "deny": "Deny"}[access.lower()]


@settings(max_examples=scaled(300))
@given(rule_sets(), st.booleans(), st.randoms(use_true_random=False))
def test_first_match_is_the_lowest_priority_matching_rule(
    case: tuple[Flow, list[RuleSpec]], with_defaults: bool, rnd: Any
) -> None:
    flow, rules = case
    if with_defaults:
        rules = [*rules, *DEFAULT_SPECS]
    shuffled = list(rules)
    rnd.shuffle(shuffled)  # list order must not matter, only priorities
    decision = first_match([(r.model(), r.name) for r in shuffled], flow.dst, flow.source())
    expected = ref_first_match(rules, flow)
    if expected is None:
        assert decision.actions == frozenset()
        assert decision.rule == ""
        assert decision.rule_priority is None
    else:
        assert decision.actions == {canonical_access(expected.access)}
        assert decision.rule == expected.name
        assert decision.rule_priority == expected.priority


@settings(max_examples=scaled(300))
@given(rule_sets())
def test_each_known_rule_matches_as_the_reference_says(case: tuple[Flow, list[RuleSpec]]) -> None:
    flow, rules = case
    for rule in rules:
        expected = Tri.YES if ref_rule_matches(rule, flow) else Tri.NO
        assert match_security_rule(rule.model(), flow.dst, flow.source(), []) is expected, rule


RULE_FIELDS = (
    "priority",
    "direction",
    "access",
    "protocol",
    "source_address_prefixes",
    "source_port_ranges",
    "destination_address_prefixes",
    "destination_port_ranges",
)
TUPLE_FIELDS = RULE_FIELDS[4:]


@st.composite
def blurred(draw: st.DrawFn, rule: SecurityRule) -> SecurityRule:
    """``rule`` with one field, or one item of a list field, made unknown."""
    field = draw(st.sampled_from(RULE_FIELDS))
    value = getattr(rule, field)
    if field in TUPLE_FIELDS and value and draw(st.booleans()):
        i = draw(st.integers(0, len(value) - 1))
        return dataclasses.replace(rule, **{field: (*value[:i], Unknown("item"), *value[i + 1 :])})
    return dataclasses.replace(rule, **{field: Unknown(field)})


@settings(max_examples=scaled(300))
@given(st.data())
def test_catch_all_rule_ahead_of_every_other_decides(data: st.DataObject) -> None:
    """A rule with a lower priority number than all others that matches everything decides the
    flow, whatever the later rules are, even when they have unknown fields."""
    flow, rules = data.draw(rule_sets(min_priority=101))
    models = [r.model() for r in rules]
    for i in data.draw(st.sets(st.integers(0, max(len(models) - 1, 0)), max_size=len(models))):
        if i < len(models):
            models[i] = data.draw(blurred(models[i]).filter(lambda m: not isinstance(m.priority, Unknown)))
    access = data.draw(one_of_any_case(["Allow", "Deny"]))
    first = min((r.priority for r in rules), default=4097) - 1
    catch_all = SecurityRule("catch-all", first, "Outbound", access, "*", ("*",), ("*",), ("*",), ("*",))
    pairs = [(m, m.name) for m in [*models, catch_all, *DEFAULT_OUTBOUND]]
    decision = first_match(pairs, flow.dst, flow.source())
    assert decision.actions == {canonical_access(access)}
    assert decision.rule == "catch-all"
    assert decision.rule_priority == first


@settings(max_examples=scaled(300))
@given(st.data())
def test_unknown_field_only_widens_the_possible_actions(data: st.DataObject) -> None:
    """Making one field unknown can add possible actions but never remove the known outcome."""
    flow, rules = data.draw(rule_sets())
    models = [r.model() for r in [*rules, *DEFAULT_SPECS]]
    before = first_match([(m, m.name) for m in models], flow.dst, flow.source())
    i = data.draw(st.integers(0, len(models) - 1))
    models[i] = data.draw(blurred(models[i]))
    after = first_match([(m, m.name) for m in models], flow.dst, flow.source())
    assert before.actions <= after.actions
    if after.decided is not None:
        assert after.decided == before.decided


# ------------------------------------------------------------------------------------------------
# End to end: the KMS platform rule (§4.5 R4.1/R4.2) through parse_description and analyze

PUBLIC_KMS = ("20.118.99.224", "23.102.135.246", "40.83.235.53")
SUBNET = IPv4Network("10.1.2.0/24")


def subnet_source_items() -> st.SearchStrategy[str]:
    """Sources that contain the whole subnet or none of it, so the subnet-level flow is decided."""
    return st.one_of(
        one_of_any_case(["*", "VirtualNetwork", "Internet", "AzureCloud"]),
        st.just("0.0.0.0/0"),
        st.integers(8, 24).map(lambda n: str(SUBNET.supernet(new_prefix=n))),
        st.sampled_from(["10.9.0.0/16", "192.168.0.0/16", "172.16.0.0/12"]),
    )


def kms_destination_items() -> st.SearchStrategy[str]:
    return st.one_of(
        one_of_any_case(["*", "Internet", "AzurePlatformLKM", "VirtualNetwork", "AzureLoadBalancer"]),
        st.sampled_from([f"{ip}/32" for ip in PUBLIC_KMS]),
        st.sampled_from(PUBLIC_KMS),
        st.sampled_from(["20.0.0.0/8", "0.0.0.0/0", "40.83.0.0/16", "8.8.8.8/32"]),
    )


@st.composite
def nsg_rule_json(draw: st.DrawFn, priority: int, name: str) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "name": name,
        "priority": priority,
        "direction": draw(st.one_of(any_case("Outbound"), any_case("Outbound"), any_case("Inbound"))),
        "access": draw(one_of_any_case(["Allow", "Deny"])),
        "protocol": draw(one_of_any_case(["Tcp", "*", "Udp"])),
        "sourcePortRange": "*",
    }
    sources = draw(st.lists(subnet_source_items(), min_size=1, max_size=2))
    destinations = draw(st.lists(kms_destination_items(), min_size=1, max_size=2))
    ports = draw(st.lists(destination_port_items, min_size=1, max_size=2))
    for single, plural, values in (
        ("sourceAddressPrefix", "sourceAddressPrefixes", sources),
        ("destinationAddressPrefix", "destinationAddressPrefixes", destinations),
        ("destinationPortRange", "destinationPortRanges", ports),
    ):
        if len(values) == 1 and draw(st.booleans()):
            rule[single] = values[0]
        else:
            rule[plural] = values
    return rule


def spec_of(rule: dict[str, Any]) -> RuleSpec:
    def items(single: str, plural: str) -> tuple[str, ...]:
        return tuple(rule[plural]) if plural in rule else (rule[single],)

    return RuleSpec(
        rule["name"],
        rule["priority"],
        rule["direction"],
        rule["access"],
        rule["protocol"],
        items("sourceAddressPrefix", "sourceAddressPrefixes"),
        ("*",),
        items("destinationAddressPrefix", "destinationAddressPrefixes"),
        items("destinationPortRange", "destinationPortRanges"),
    )


def platform_network(rules: list[dict[str, Any]], forced_tunnel: bool) -> dict[str, Any]:
    routes = []
    if forced_tunnel:
        # R4.2: a user 0.0.0.0/0 to an appliance turns the platform rule off; the /32 routes keep
        # the KMS IPs on the Internet next hop so that only the NSG decides.
        routes = [{"name": "default", "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance",
                   "nextHopIpAddress": "10.9.9.9"}]  # fmt: skip
        routes += [
            {"name": f"kms-{i}", "addressPrefix": f"{ip}/32", "nextHopType": "Internet"}
            for i, ip in enumerate(PUBLIC_KMS)
        ]
    return {
        "vnets": [
            {
                "name": "vnet",
                "location": "eastus",
                "addressSpace": ["10.1.0.0/16"],
                "subnets": [{"name": "app", "addressPrefix": str(SUBNET), "nsg": "nsg", "routeTable": "rt"}],
            }
        ],
        "routeTables": [{"name": "rt", "routes": routes}],
        "nsgs": [{"name": "nsg", "rules": rules}],
    }


@st.composite
def nsg_rule_lists(draw: st.DrawFn) -> list[dict[str, Any]]:
    priorities = draw(st.lists(st.integers(100, 4096), max_size=6, unique=True))
    return [draw(nsg_rule_json(p, f"r{i}")) for i, p in enumerate(priorities)]


def subnet_flow(dst: str) -> Flow:
    return Flow(SUBNET.network_address, SUBNET, (IPv4Network("10.1.0.0/16"),), IPv4Address(dst))


def ref_subnet_rule_matches(rule: RuleSpec, flow: Flow) -> bool:
    """As ``ref_rule_matches`` for a subnet-level flow: a source CIDR must contain the whole subnet."""
    whole = dataclasses.replace(rule, sources=tuple(_subnet_source(s) for s in rule.sources))
    return ref_rule_matches(whole, flow)


def _subnet_source(item: str) -> str:
    net = parse_prefix(item) if item[:1].isdigit() else None
    if net is None:
        return item
    return "*" if SUBNET.subnet_of(net) else "AzureCloud"  # AzureCloud: never the VM (see ref_source_item)


@settings(max_examples=scaled(60))
@given(nsg_rule_lists())
def test_platform_rule_only_azureplatformlkm_deny_blocks(rules: list[dict[str, Any]]) -> None:
    """R4.1: with no custom 0.0.0.0/0 route, NSGs do not filter TCP 1688 to the KMS IPs unless an
    outbound Deny rule targeting AzurePlatformLKM matches, whatever its priority."""
    network, config = parse_description(platform_network(rules, forced_tunnel=False))
    (result,) = analyze(network, config).subnets
    flow = subnet_flow(PUBLIC_KMS[0])
    lkm_deny = any(
        ref_subnet_rule_matches(spec, flow)
        and spec.access.lower() == "deny"
        and any(d.lower() == "azureplatformlkm" for d in spec.destinations)
        for spec in map(spec_of, rules)
    )
    assert result.verdict is (Verdict.BLOCKED if lkm_deny else Verdict.REACHABLE), result


@settings(max_examples=scaled(60))
@given(nsg_rule_lists())
def test_forced_tunneling_makes_nsgs_filter_kms(rules: list[dict[str, Any]]) -> None:
    """R4.2: with a user 0.0.0.0/0 to an appliance, the NSG's first match decides each KMS IP."""
    network, config = parse_description(platform_network(rules, forced_tunnel=True))
    (result,) = analyze(network, config).subnets
    specs = [*map(spec_of, rules), *DEFAULT_SPECS]
    denied = []
    for ip in PUBLIC_KMS:
        flow = subnet_flow(ip)
        matching = [s for s in specs if ref_subnet_rule_matches(s, flow)]
        first = min(matching, key=lambda s: s.priority)
        denied.append(first.access.lower() == "deny")
    assert result.verdict is (Verdict.BLOCKED if any(denied) else Verdict.REACHABLE), result
    by_ip = dict(zip(PUBLIC_KMS, denied, strict=True))
    assert sorted(e.ip for e in result.endpoints) == sorted(PUBLIC_KMS)
    for endpoint in result.endpoints:
        assert endpoint.verdict is (Verdict.BLOCKED if by_ip[endpoint.ip] else Verdict.REACHABLE), endpoint


# ------------------------------------------------------------------------------------------------
# Regressions


def test_regression_port_range_with_unicode_digits() -> None:
    """``str.isdigit`` accepted "²" (then ``int`` raised ValueError out of analyze) and full-width
    "１６８８" (a malformed port matched TCP 1688)."""
    for text in ("²", "¹⁶⁸⁸", "１６８８", "١٦٨٨", "1688-１６９０"):
        assert parse_port_range(text) is None
        assert port_matches((text,), KMS_PORT, [], "destination port") is Tri.MAYBE
    # A malformed port on the Allow ahead of a Deny: before the fix the Allow matched (REACHABLE).
    description = platform_network(
        [{"name": "allow", "priority": 100, "direction": "Outbound", "access": "Allow", "protocol": "Tcp",
          "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": "*",
          "destinationPortRange": "１６８８"},
         {"name": "deny", "priority": 200, "direction": "Outbound", "access": "Deny", "protocol": "*",
          "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": "*",
          "destinationPortRange": "*"}],
        forced_tunnel=True,
    )  # fmt: skip
    network, config = parse_description(description)
    (result,) = analyze(network, config).subnets
    assert result.verdict is Verdict.UNKNOWN  # the Allow may or may not match; a Deny is behind it


def test_regression_prefix_with_leading_whitespace() -> None:
    """A CIDR with a leading blank was read as a service tag: as an NSG source it then never
    matched the VM, so a Deny rule was skipped and the subnet was REACHABLE (a trailing blank
    parsed fine and blocked)."""
    assert parse_prefix(" 10.1.2.0/24") == IPv4Network("10.1.2.0/24")
    assert looks_like_address(" 10.1.2.0/24")
    verdicts = set()
    for source in ("10.1.2.0/24", " 10.1.2.0/24", "10.1.2.0/24 "):
        rule = {"name": "deny", "priority": 100, "direction": "Outbound", "access": "Deny", "protocol": "*",
                "sourceAddressPrefix": source, "sourcePortRange": "*", "destinationAddressPrefix": "*",
                "destinationPortRange": "*"}  # fmt: skip
        network, config = parse_description(platform_network([rule], forced_tunnel=True))
        (result,) = analyze(network, config).subnets
        verdicts.add(result.verdict)
    assert verdicts == {Verdict.BLOCKED}
