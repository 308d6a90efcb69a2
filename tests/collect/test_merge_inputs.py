"""``merge_inputs``: outputs win, but a whole-secret output is re-marked after its input's finer secrets.

The engine marks a whole output property secret when its same-named input holds a secret anywhere
(pulumi's ``annotateSecrets``, azure-native's preview outputs): a route table's whole ``routes`` list is
secret when one prefix is. The merge keeps the output's value and marks secret only the leaves whose
text is one of the input's secret texts, in each form the merge meets: the wire's ``"value"``
envelopes (``pack_view``), a stack export's ``"plaintext"``/``"ciphertext"``, and the pack's plain
values (secrets already unwrapped).
"""

from __future__ import annotations

import json
from typing import Any

from kmsguard.analysis import Verdict, analyze
from kmsguard.analysis.fixes import apply, change_route_fix
from kmsguard.collect.pulumi import PulumiResource, collect, from_stack_export, merge_inputs
from kmsguard.engine import PackResource, Secret
from kmsguard.evaluate import pack_view
from kmsguard.model import Network, Origin, Route, RouteTable
from kmsguard.protocol import RESOURCE_REF_SIG, SECRET_SIG, SIG_KEY, UNKNOWN_STRING

RT = "azure-native:network:RouteTable"
VNET = "azure-native:network:VirtualNetwork"


def wire(value: Any) -> dict[str, Any]:
    return {SIG_KEY: SECRET_SIG, "value": value}


def plaintext(value: Any) -> dict[str, Any]:
    return {SIG_KEY: SECRET_SIG, "plaintext": json.dumps(value)}


def ciphertext() -> dict[str, Any]:
    return {SIG_KEY: SECRET_SIG, "ciphertext": "v1:AAAA"}


def urn(token: str, name: str) -> str:
    return f"urn:pulumi:dev::net::{token}::{name}"


ROUTES_IN = [
    {"name": "default-gw", "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualNetworkGateway"},
    {"name": "blackhole-kms", "addressPrefix": wire("20.118.99.224/32"), "nextHopType": "None"},
]
ROUTES_OUT = [
    {"name": "default-gw", "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualNetworkGateway", "id": "x"},
    {"name": "blackhole-kms", "addressPrefix": "20.118.99.224/32", "nextHopType": "None", "id": "y"},
]


def test_whole_secret_output_is_re_marked_after_the_input() -> None:
    merged = merge_inputs({"routes": wire(ROUTES_OUT)}, {"routes": ROUTES_IN, "resourceGroupName": "rg"})
    assert merged == {
        "routes": [
            ROUTES_OUT[0],
            {**ROUTES_OUT[1], "addressPrefix": wire("20.118.99.224/32")},
        ],
        "resourceGroupName": "rg",
    }


def test_secret_subnet_name_marks_that_name_only() -> None:
    subnets_in = [{"name": wire("snet-hidden"), "addressPrefix": "10.0.1.0/24"}, {"name": "snet-plain"}]
    subnets_out = [{"name": "snet-hidden", "addressPrefix": "10.0.1.0/24"}, {"name": "snet-plain"}]
    merged = merge_inputs({"subnets": wire(subnets_out)}, {"subnets": subnets_in})
    assert merged["subnets"] == [
        {"name": wire("snet-hidden"), "addressPrefix": "10.0.1.0/24"},
        {"name": "snet-plain"},
    ]


def test_every_leaf_with_a_secret_text_is_marked_wherever_it_is() -> None:
    # Matching by text, not by place: Azure may reorder a list or copy a value, and a secret text
    # must never come out plain. Case and number types do not hide a match.
    given = [{"name": "a", "prefix": wire("Secret-Net")}, {"name": "b", "port": wire(1688)}]
    out = [
        {"name": "b", "port": 1688.0, "note": "secret-net"},
        {"name": "a", "prefix": "SECRET-NET", "ref": {SIG_KEY: RESOURCE_REF_SIG, "id": "secret-net"}},
    ]
    merged = merge_inputs({"rules": wire(out)}, {"rules": given})
    assert merged["rules"] == [
        {"name": "b", "port": wire(1688.0), "note": wire("secret-net")},
        {"name": "a", "prefix": wire("SECRET-NET"), "ref": wire(out[1]["ref"])},
    ]


def test_secrets_the_input_does_not_explain_stay_whole() -> None:
    # The provider's own secret (or additionalSecretOutputs): nothing in the input is secret.
    assert merge_inputs({"routes": wire(ROUTES_OUT)}, {"routes": [ROUTES_OUT[0]]}) == {
        "routes": wire(ROUTES_OUT)
    }
    # The input is secret as a whole too: nothing finer to take from it.
    assert merge_inputs({"routes": wire(ROUTES_OUT)}, {"routes": wire(ROUTES_OUT)}) == {
        "routes": wire(ROUTES_OUT)
    }
    # No input of that name: the output stays as it is.
    assert merge_inputs({"routes": wire(ROUTES_OUT)}, {}) == {"routes": wire(ROUTES_OUT)}


def test_plain_values_and_partly_secret_outputs_are_left_alone() -> None:
    # The pack's AnalyzeStack values: pulumi_policy has unwrapped every secret already.
    plain_out = {"routes": ROUTES_OUT, "name": "rt"}
    assert merge_inputs(plain_out, {"routes": ROUTES_IN, "name": "other"}) == plain_out
    # An output that is not secret as a whole keeps its own marking.
    partly = {"routes": [ROUTES_OUT[0], wire(ROUTES_OUT[1])]}
    assert merge_inputs(partly, {"routes": ROUTES_IN}) == partly
    # Internal keys of the inputs are never merged.
    assert merge_inputs({}, {"__defaults": [], "a": 1}) == {"a": 1}


def test_stack_export_plaintext_is_re_marked_in_its_own_form() -> None:
    given = [ROUTES_IN[0], {**ROUTES_IN[1], "addressPrefix": plaintext("20.118.99.224/32")}]
    merged = merge_inputs({"routes": plaintext(ROUTES_OUT)}, {"routes": given})
    assert merged["routes"] == [
        ROUTES_OUT[0],
        {**ROUTES_OUT[1], "addressPrefix": plaintext("20.118.99.224/32")},
    ]


def test_stack_export_ciphertext_falls_back_to_the_input() -> None:
    given = [ROUTES_IN[0], {**ROUTES_IN[1], "addressPrefix": ciphertext()}]
    # The output cannot be read: the input, marked as the program marked it, is the best value known.
    assert merge_inputs({"routes": ciphertext()}, {"routes": given}) == {"routes": given}
    # The output can be read but the input's secret cannot: its text is unknown, so all stays secret.
    assert merge_inputs({"routes": plaintext(ROUTES_OUT)}, {"routes": given}) == {
        "routes": plaintext(ROUTES_OUT)
    }


def test_from_stack_export_names_the_plain_routes() -> None:
    given = [ROUTES_IN[0], {**ROUTES_IN[1], "addressPrefix": plaintext("20.118.99.224/32")}]
    state = {
        "deployment": {
            "resources": [
                {
                    "urn": urn(RT, "rt"),
                    "type": RT,
                    "inputs": {"resourceGroupName": "rg", "location": "westeurope", "routes": given},
                    "outputs": {"name": "rt", "location": "westeurope", "routes": plaintext(ROUTES_OUT)},
                }
            ]
        }
    }
    [rt] = from_stack_export(state)
    net = collect([rt])
    routes = net.route_tables[urn(RT, "rt")].routes
    assert isinstance(routes, tuple)
    assert [r.name for r in routes] == ["default-gw", "blackhole-kms"]
    assert routes[0].address_prefix == "0.0.0.0/0"


def test_pack_view_re_marks_the_engines_secret_objects() -> None:
    resource = PackResource(
        type=RT,
        urn=urn(RT, "rt"),
        name="rt",
        inputs={
            "routes": [ROUTES_IN[0], {**ROUTES_IN[1], "addressPrefix": Secret("20.118.99.224/32")}],
            "resourceGroupName": "rg",
        },
        outputs={"routes": Secret(ROUTES_OUT)},
    )
    props = pack_view(resource).props
    assert props["routes"] == [ROUTES_OUT[0], {**ROUTES_OUT[1], "addressPrefix": wire("20.118.99.224/32")}]
    assert props["resourceGroupName"] == "rg"


# --- a fix finds its route by place, not by a name that may read "[secret]" -----------------------


def _secret_named_stack() -> list[PulumiResource]:
    """Both route names secret (both read "[secret]"), the second route blackholing a KMS IP; as the
    engine hands them over, the routes and subnets outputs secret as a whole."""
    routes_in = [
        {"name": wire("gw"), "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualNetworkGateway"},
        {"name": wire("hole"), "addressPrefix": "20.118.99.224/32", "nextHopType": "None"},
    ]
    routes_out = [{**r, "name": r["name"]["value"]} for r in routes_in]
    rt_in = {"resourceGroupName": "rg", "location": "westeurope", "routes": routes_in}
    rt = PulumiResource(urn(RT, "rt"), RT, "rt", merge_inputs({"routes": wire(routes_out)}, rt_in))
    subnet = {"name": "app", "addressPrefix": "10.0.1.0/24", "routeTable": {"id": UNKNOWN_STRING}}
    vnet_in = {
        "resourceGroupName": "rg",
        "location": "westeurope",
        "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
        "subnets": [subnet],
    }
    vnet = PulumiResource(
        urn(VNET, "vnet"), VNET, "vnet", vnet_in, property_dependencies={"subnets": (rt.urn,)}
    )
    return [rt, vnet]


def test_change_route_fix_changes_the_route_it_found_not_a_namesake() -> None:
    result = analyze(collect(_secret_named_stack()))
    [app] = [s for s in result.subnets if s.name == "vnet/app"]
    assert app.verdict is Verdict.BLOCKED
    [fix] = [f for f in app.fixes if f.kind == "change-route"]
    assert fix.data["index"] == 1
    assert "(20.118.99.224/32)" in fix.detail


def test_apply_changes_the_route_at_the_fixs_index() -> None:
    routes = (
        Route("[secret]", "0.0.0.0/0", "VirtualNetworkGateway"),
        Route("[secret]", "20.118.99.224/32", "None"),
    )
    table = RouteTable("rt", Origin("rt"), "westeurope", routes)
    fix = change_route_fix(table, routes[1])
    assert fix.data["index"] == 1
    changed = apply(Network(route_tables={"rt": table}), [fix]).route_tables["rt"].routes
    assert isinstance(changed, tuple)
    assert [r.next_hop_type for r in changed] == ["VirtualNetworkGateway", "Internet"]
