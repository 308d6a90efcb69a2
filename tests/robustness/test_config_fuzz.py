"""Policy config fuzzing: through ``Configure`` over gRPC, and ``--policy-config`` of the CLI.

Every valid ``kms-reachability`` config is accepted (no config error anywhere); every invalid one is
rejected, either by the engine's schema check before Configure (the driver reproduces it, §5) or by
the pack at AnalyzeStack as a mandatory kms-reachability violation, and the message names the key.
Never a silent pass: with a bad config no run ends without a mandatory violation or an error.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from kmsguard.cli import main
from kmsguard.engine import PackProcess, PackResource
from kmsguard.errors import KmsguardError

from .conftest import PACK_DIR
from .estate import estate
from .support import REACHABILITY, run_stack, scaled

SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture]

VALID: dict[str, Any] = {
    "cloud": "public",
    "scope": "all-subnets",
    "excludeSubnets": ["spoke/web"],
    "egressAppliances": ["10.9.0.4", {"ip": "10.9.0.5", "egress": "on-premises"}],
    "trustedDnsServers": ["10.0.0.53"],
    "extraEndpoints": [{"cloud": "public", "fqdn": "kms.contoso.com", "ip": "20.1.2.3", "port": 1688}],
    "absentDefaultOutboundAccess": "private",
}

# (key, bad value): each one is invalid for that key alone.
BAD: list[tuple[str, Any]] = [
    ("cloud", "Public"),
    ("cloud", "mars"),
    ("cloud", 1),
    ("scope", "windows"),
    ("scope", ["all-subnets"]),
    ("excludeSubnets", "spoke/web"),
    ("excludeSubnets", [""]),
    ("excludeSubnets", [7]),
    ("egressAppliances", ["10.9.0.300"]),
    ("egressAppliances", [{"ip": "10.9.0.5"}]),
    ("egressAppliances", [{"ip": "10.9.0.5", "egress": "internet"}]),
    ("egressAppliances", [{"ip": "10.9.0.5", "egress": "on-premises", "snat": True}]),
    ("egressAppliances", ["10.9.0.4/32"]),
    ("egressAppliances", {"ip": "10.9.0.4"}),
    ("trustedDnsServers", ["dns.contoso.com"]),
    ("trustedDnsServers", "10.0.0.53"),
    ("trustedDnsServers", [" 10.0.0.53"]),
    ("extraEndpoints", [{"cloud": "public", "fqdn": "kms.contoso.com"}]),
    ("extraEndpoints", [{"cloud": "public", "fqdn": "kms.contoso.com", "ip": "10.0.0.1"}]),
    ("extraEndpoints", [{"cloud": "public", "fqdn": "kms.contoso.com", "ip": "20.1.2.3", "port": 70000}]),
    ("extraEndpoints", [{"cloud": "public", "fqdn": "kms.contoso.com", "ip": "20.1.2.3", "port": "1688"}]),
    ("extraEndpoints", [{"cloud": "public", "fqdn": "kms.contoso.com", "ip": "20.1.2.3", "prot": 1689}]),
    ("extraEndpoints", [{"cloud": "", "fqdn": "kms.contoso.com", "ip": "20.1.2.3"}]),
    ("extraEndpoints", ["20.1.2.3"]),
    ("absentDefaultOutboundAccess", "denied"),
    ("absentDefaultOutboundAccess", False),
    ("trustedDNSServers", ["10.0.0.53"]),  # a typo of a key
    ("egress", ["10.9.0.4"]),
]

valid_configs = st.sets(st.sampled_from(sorted(VALID))).map(
    lambda keys: {k: copy.deepcopy(VALID[k]) for k in keys}
)


@st.composite
def invalid_configs(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    config = draw(valid_configs)
    key, value = draw(st.sampled_from(BAD))
    config[key] = copy.deepcopy(value)
    return config, key


@pytest.fixture(scope="module")
def pack() -> Iterator[PackProcess]:
    """A pack of this module's own: messages are compared as texts, and a pack that served other
    tests redacts every secret text it was sent there (docs/threat-model.md, secrets rule 6)."""
    with PackProcess(PACK_DIR) as running:
        running.configure({})
        yield running


def _stack() -> list[PackResource]:
    return estate()


def _configured_run(
    pack: PackProcess, config: dict[str, Any]
) -> tuple[str | None, list[tuple[str, str, str]]]:
    """(engine error, violations) of one run with ``config`` on kms-reachability."""
    try:
        pack.configure({REACHABILITY: config})
    except KmsguardError as exc:
        return str(exc), []
    try:
        run = run_stack(pack, _stack())
    finally:
        pack.configure({})
    return None, [(v.policy, v.level, v.message) for v in run.stack_violations]


CONFIG_ERROR = "kmsguard could not evaluate the stack"


@settings(max_examples=scaled(25), deadline=None, suppress_health_check=SLOW)
@given(valid_configs)
def test_valid_configs_are_accepted_over_grpc(pack: PackProcess, config: dict[str, Any]) -> None:
    error, violations = _configured_run(pack, config)
    assert error is None
    assert not any(CONFIG_ERROR in m for _, _, m in violations), violations


@settings(max_examples=scaled(40), deadline=None, suppress_health_check=SLOW)
@given(invalid_configs())
def test_invalid_configs_are_rejected_naming_the_key_over_grpc(
    pack: PackProcess, case: tuple[dict[str, Any], str]
) -> None:
    config, key = case
    note(json.dumps(config))
    error, violations = _configured_run(pack, config)
    if error is not None:
        assert key in error, error
        return
    errors = [m for p, level, m in violations if CONFIG_ERROR in m]
    assert errors, violations
    assert all(key in m for m in errors), errors
    assert any(p == REACHABILITY and level == "mandatory" for p, level, m in violations if CONFIG_ERROR in m)


# --- the CLI ---------------------------------------------------------------------------------------


def _export(tmp: Path) -> Path:
    resources = []
    for r in _stack():
        resources.append(
            {"urn": r.urn, "type": r.type, "custom": True, "inputs": r.inputs, "outputs": r.inputs}
        )
    path = tmp / "state.json"
    path.write_text(
        json.dumps({"version": 3, "deployment": {"manifest": {}, "resources": resources}}), encoding="utf-8"
    )
    return path


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _export(tmp_path_factory.mktemp("state"))


@settings(max_examples=scaled(8), deadline=None, suppress_health_check=SLOW)
@given(st.one_of(invalid_configs(), valid_configs.map(lambda c: (c, ""))))
def test_cli_policy_config_rejects_naming_the_key(
    state: Path,
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    case: tuple[dict[str, Any], str],
) -> None:
    config, key = case
    note(json.dumps(config))
    path = tmp_path_factory.mktemp("cfg") / "policy-config.json"
    path.write_text(json.dumps({REACHABILITY: config}), encoding="utf-8")
    code = main(["check", str(state), "--policy-config", str(path), "--format", "json"])
    out, err = capsys.readouterr()
    if not key:
        assert code in (0, 1), err
        return
    assert code == 2, (code, out[:500])
    assert err.startswith("kmsguard: error: ") and key in err and "Traceback" not in err, err
