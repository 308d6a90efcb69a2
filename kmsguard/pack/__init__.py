"""The kmsguard policy pack as a program: ``serve()`` builds the ``PolicyPack`` and serves the Analyzer
gRPC API until the engine stops it.

It ships inside the package so an installed kmsguard has its pack, in three forms:

* this directory (``PulumiPolicy.yaml`` + ``__main__.py``), which kmsguard's stand-in engine starts in
  the interpreter running kmsguard (``kmsguard check``, ``kmsguard preview --engine mocks``);
* the console script ``kmsguard-policy-pack``: an executable policy pack, which the Pulumi CLI starts
  directly with the engine's address (pkg/resource/plugin/analyzer_plugin.go, ``NewPolicyAnalyzer``:
  a ``--policy-pack`` path that is a file is launched as a binary analyzer), in the interpreter that has
  kmsguard: ``pulumi preview --policy-pack "$(command -v kmsguard-policy-pack)"``;
* the repository's ``policy/`` directory (``PulumiPolicy.yaml`` naming the repository's ``.venv``), for
  ``pulumi preview --policy-pack policy`` from a checkout.
"""

from __future__ import annotations

import os

__all__ = ["RECORD_ENV", "serve"]

# Set by kmsguard's real-engine runs only: the file the pack appends the requests it is given to, so the
# reports can show the analysis behind the engine's verdict (kmsguard.pack.record).
RECORD_ENV = "KMSGUARD_PACK_RECORD"


def serve() -> None:
    """Build the pack and serve it; never returns (nothing may print on stdout before the port)."""
    from pulumi_policy import EnforcementLevel, PolicyPack

    from kmsguard.policies import PACK_NAME, POLICIES, scope

    record = os.environ.get(RECORD_ENV)
    if record:
        from kmsguard.pack.record import record_requests

        record_requests(record)
    # Each AnalyzeStack/Analyze call opens one scope (kmsguard.policies.scope): the policies share one
    # decoding of the request (decode_once) and one analysis, the cyclic garbage collector, which finds
    # nothing to free there, is paused during AnalyzeStack (gc_pause), and what they share is dropped
    # when the call ends. On an unsupported pulumi_policy nothing is patched and the SDK runs as it is.
    scope.install()
    # The constructor serves the Analyzer gRPC API and never returns.
    PolicyPack(name=PACK_NAME, enforcement_level=EnforcementLevel.ADVISORY, policies=list(POLICIES))


def main() -> None:
    """The ``kmsguard-policy-pack`` console script (the engine passes its address; the SDK needs none)."""
    serve()
