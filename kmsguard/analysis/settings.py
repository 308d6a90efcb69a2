"""The analysis settings: the policy config of ``kms-reachability`` as typed values."""

from __future__ import annotations

from dataclasses import dataclass

from kmsguard.catalog import Endpoint


@dataclass(frozen=True, slots=True)
class Settings:
    # Force one cloud for every subnet instead of deriving it from the location (§1.3).
    cloud: str | None = None
    # "all-subnets" (default) or "windows-vm-subnets" (DESIGN: product rules).
    scope: str = "all-subnets"
    # Subnet names (logical name or "<vnet>/<subnet>") to leave out.
    exclude_subnets: frozenset[str] = frozenset()
    # Private IPs of third-party appliances that SNAT to an Azure public IP and allow TCP 1688 (§3.5).
    egress_appliances: frozenset[str] = frozenset()
    # Private IPs of appliances known to forward Internet traffic on-premises (§3.5: BLOCKED).
    onprem_appliances: frozenset[str] = frozenset()
    # Custom DNS servers known to resolve the KMS names to their public IPs (§7.1 R7.1).
    trusted_dns_servers: frozenset[str] = frozenset()
    # Endpoints to check in addition to the catalog's (e.g. a new KMS IP before the catalog has it).
    extra_endpoints: tuple[Endpoint, ...] = ()
    # §5.2: how an absent defaultOutboundAccess reads. "allowed" (older API versions, the doc's
    # default) or "private" (deployments with the post-March-2026 API default). UNCONFIRMED.
    absent_default_outbound: str = "allowed"
