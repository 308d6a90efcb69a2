"""Pulumi program-side helpers: the regional KMS routes and the stack config check.

``pulumi_azure_native`` is imported only when one of these declares a resource, so importing this
package stays cheap and the policy pack never depends on it.
"""

from kmsguard.pulumi.activation import KmsActivation
from kmsguard.pulumi.config import StackConfigError, read_stack_config, validate_stack_config
from kmsguard.pulumi.routes import (
    AutoKmsRoutes,
    KmsRoutes,
    auto_kms_routes,
    kms_ips,
    kms_network_rule_collection,
    resolve_cloud,
    with_kms_routes,
)

__all__ = [
    "AutoKmsRoutes",
    "KmsActivation",
    "KmsRoutes",
    "StackConfigError",
    "auto_kms_routes",
    "kms_ips",
    "kms_network_rule_collection",
    "read_stack_config",
    "resolve_cloud",
    "validate_stack_config",
    "with_kms_routes",
]
