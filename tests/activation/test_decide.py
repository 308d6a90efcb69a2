"""The Python twin of the script's decision, against recorded ``slmgr /dlv`` outputs (§8.1, §8.3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kmsguard.activation import Decision, activation_target, decide, error_code, explain, plan_data

DATA = Path(__file__).resolve().parent / "data"


def dlv(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def data_2022() -> dict[str, object]:
    return plan_data(activation_target("2022", "Datacenter", "public"))


CASES: list[tuple[str, Decision]] = [
    (
        "dlv-retail-2022-datacenter.txt",
        Decision(
            "RETAIL",
            "install-gvlk",
            "channel RETAIL is not a KMS client; the GVLK for 2022 Datacenter is installed",
        ),
    ),
    (
        "dlv-avma-2019-datacenter.txt",
        Decision(
            "VIRTUAL_MACHINE_ACTIVATION",
            "install-gvlk",
            "channel VIRTUAL_MACHINE_ACTIVATION is not a KMS client; the GVLK for 2022 Datacenter is installed",
        ),
    ),
    (
        "dlv-volume-kmsclient-2022-datacenter.txt",
        Decision(
            "VOLUME_KMSCLIENT",
            "keep-key",
            "channel VOLUME_KMSCLIENT is already a KMS client; the key is kept",
        ),
    ),
    (
        # German labels ("Beschreibung:"); the license description itself is not translated.
        "dlv-volume-kmsclient-de-2019-datacenter.txt",
        Decision(
            "VOLUME_KMSCLIENT",
            "keep-key",
            "channel VOLUME_KMSCLIENT is already a KMS client; the key is kept",
        ),
    ),
    (
        "dlv-retail-multisession.txt",
        Decision(
            "RETAIL",
            "stop",
            "channel RETAIL on a multi-session (ServerRdsh) image: changing its key cannot be undone (docs/rules.md#image-channel); "
            "nothing was changed",
        ),
    ),
    (
        "dlv-volume-mak.txt",
        Decision(
            "VOLUME_MAK",
            "stop",
            "channel VOLUME_MAK is not a KMS client channel (expected one of VOLUME_KMSCLIENT, RETAIL, "
            "VIRTUAL_MACHINE_ACTIVATION); the key is left as it is",
        ),
    ),
    (
        "dlv-error-access-denied.txt",
        Decision("", "stop", "the license channel is not in the slmgr /dlv output; nothing was changed"),
    ),
]


@pytest.mark.parametrize(("file", "expected"), CASES, ids=[c[0] for c in CASES])
def test_decision_on_recorded_output(data_2022: dict[str, object], file: str, expected: Decision) -> None:
    assert decide(dlv(file), data_2022) == expected


def test_a_second_run_after_the_key_change_keeps_the_key(data_2022: dict[str, object]) -> None:
    # Idempotence: once /ipk has run the channel reads VOLUME_KMSCLIENT, so the key is never reinstalled.
    before = dlv("dlv-retail-2022-datacenter.txt")
    after = before.replace("RETAIL channel", "VOLUME_KMSCLIENT channel")
    assert decide(before, data_2022).action == "install-gvlk"
    assert decide(after, data_2022).action == "keep-key"


def test_channel_pattern_is_case_sensitive(data_2022: dict[str, object]) -> None:
    # "Product Key Channel: Retail" must not be read as a channel; only the license description counts.
    assert decide("Product Key Channel: Retail\n", data_2022) == Decision(
        "", "stop", "the license channel is not in the slmgr /dlv output; nothing was changed"
    )


def test_error_codes_and_meanings() -> None:
    assert error_code(dlv("dlv-error-access-denied.txt")) == "0x80070005"
    assert explain("0x80070005") == "access denied: the command was not run elevated"
    assert error_code("Error: 0xc004f074 No Key Management Service (KMS) could be contacted.") == "0xC004F074"
    assert explain("0xC004F074").startswith("no KMS could be contacted")
    assert explain("0xC004FD01").startswith("AVMA in Azure")
    assert error_code("Product activated successfully.") == ""
    assert explain("0x12345678") == ""
