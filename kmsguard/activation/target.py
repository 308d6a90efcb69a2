"""What one VM must be set up with: its GVLK, the KMS host of its cloud and the endpoints to test.

Everything comes from the catalog (§1.1 endpoints, §8.2 keys), so no key or address is ever copied
by hand into a script.
"""

from __future__ import annotations

from dataclasses import dataclass

from kmsguard.catalog import Catalog, Endpoint, load_catalog
from kmsguard.errors import ValidationError

__all__ = ["ATTEMPTS", "DELAY_SECONDS", "ActivationTarget", "activation_target", "cloud_for_location"]

# §8.3: Microsoft's Azure sequence retries /ato "several times"; 12 tries 5 s apart cover a
# minute of network settling after boot (routes, NSGs and DNS arrive with the VM).
ATTEMPTS = 12
DELAY_SECONDS = 5
AZURE_EDITION = "Datacenter: Azure Edition"


@dataclass(frozen=True, slots=True)
class ActivationTarget:
    product: str  # "Windows Server" | "Windows"
    version: str
    edition: str
    key: str  # the GVLK of (version, edition), §8.2
    cloud: str
    kms_host: str  # §1.1 R1.3: the cloud's default FQDN, set with /skms host:port
    port: int
    endpoints: tuple[Endpoint, ...]
    attempts: int = ATTEMPTS
    delay_seconds: int = DELAY_SECONDS

    @property
    def azure_edition(self) -> bool:
        """§8.4: Azure Edition also needs IMDS for its attested activation state."""
        return self.edition == AZURE_EDITION


def cloud_for_location(location: str, *, catalog: Catalog | None = None, where: str = "activation") -> str:
    """§1.3: the cloud of an ARM location; undocumented clouds are an error, never a guess."""
    cat = catalog or load_catalog()
    entry = cat.location(location)
    if entry is None:
        raise ValidationError(where, "location", "is empty; give the VM's location or the cloud")
    if entry.cloud is None:
        raise ValidationError(
            where,
            "location",
            f"{location!r}: {entry.note or 'the KMS endpoints of its cloud are not documented'}",
        )
    return entry.cloud


def activation_target(
    version: str,
    edition: str,
    cloud: str,
    *,
    catalog: Catalog | None = None,
    attempts: int = ATTEMPTS,
    delay_seconds: int = DELAY_SECONDS,
    where: str = "activation",
) -> ActivationTarget:
    cat = catalog or load_catalog()
    gvlk = cat.gvlk_entry(version, edition)
    if gvlk is None:
        raise ValidationError(
            where,
            "edition",
            f"no KMS client setup key (GVLK) for Windows version {version!r} edition {edition!r} (docs/rules.md#image-channel); "
            "kmsguard/catalog/data/gvlk.json lists the known pairs",
        )
    if cloud not in cat.clouds:
        raise ValidationError(where, "cloud", f"unknown cloud {cloud!r}; known: {', '.join(cat.clouds)}")
    kms = cat.cloud(cloud)
    if kms.closed:
        raise ValidationError(
            where,
            "cloud",
            f"{kms.display_name}: the cloud is closed and its KMS no longer answers (docs/rules.md#kms-endpoints)",
        )
    if isinstance(attempts, bool) or not isinstance(attempts, int) or not 1 <= attempts <= 100:
        raise ValidationError(where, "attempts", f"{attempts!r} is not an integer between 1 and 100")
    if isinstance(delay_seconds, bool) or not isinstance(delay_seconds, int) or not 0 <= delay_seconds <= 300:
        raise ValidationError(
            where, "delay_seconds", f"{delay_seconds!r} is not an integer between 0 and 300"
        )
    default = next(e for e in kms.endpoints if e.fqdn == kms.default_fqdn)
    return ActivationTarget(
        product=gvlk.product,
        version=gvlk.version,
        edition=gvlk.edition,
        key=gvlk.key,
        cloud=kms.name,
        kms_host=kms.default_fqdn,
        port=default.port,
        endpoints=kms.endpoints,
        attempts=attempts,
        delay_seconds=delay_seconds,
    )
