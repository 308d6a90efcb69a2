"""The kmsguard policy pack for ``pulumi preview --policy-pack policy``; it lives in ``kmsguard.pack``."""

from kmsguard.pack import serve

serve()
