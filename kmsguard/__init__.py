"""kmsguard: prove Azure KMS activation reachability for Pulumi networks."""

from typing import Any


def __getattr__(name: str) -> Any:
    # Looked up on first use only: the pack imports kmsguard and must start fast.
    if name == "__version__":
        from importlib import metadata

        try:
            return metadata.version("kmsguard")
        except metadata.PackageNotFoundError:  # a checkout that was never installed
            return "0.0.0"
    raise AttributeError(name)
