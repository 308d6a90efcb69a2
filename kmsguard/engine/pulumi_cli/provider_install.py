"""The offline providers (azure-native and the classic ``azure``) as Pulumi plugin executables.

:func:`write_provider` writes ``pulumi-resource-azure-native`` (or, with ``package="azure"``,
``pulumi-resource-azure``, the classic provider pulumi-azure): a ``/bin/sh`` shim that runs the provider
package (``kmsguard/provider/``) with the program's own interpreter, loaded from its files as the
standalone package ``_kmsguard_provider`` (the stand-in's runner loads it the same way), so that
interpreter needs ``pulumi`` and the package's SDK (``pulumi_azure_native`` / ``pulumi_azure``) but not
kmsguard. The engine starts plugins with
the CLI's environment, so the interpreter is named by its absolute path.

The engine integration installs it with ``pulumi plugin install resource azure-native <version> --file
<shim>`` into a throwaway ``PULUMI_HOME``; ``<version>`` is :func:`provider_version`, the version the
program's SDK asks for (``default_<version>`` providers). The classic provider likewise, as ``resource
azure <version>`` with :func:`classic_provider_version`.
"""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
from pathlib import Path
from typing import Final

from kmsguard.errors import KmsguardError

__all__ = [
    "CLASSIC_PACKAGE",
    "NATIVE_PACKAGE",
    "PROVIDER_DIR",
    "SHIM_NAME",
    "classic_provider_version",
    "provider_version",
    "write_provider",
]

PROVIDER_DIR: Final = Path(__file__).resolve().parents[2] / "provider"
NATIVE_PACKAGE: Final = "azure-native"
CLASSIC_PACKAGE: Final = "azure"
SHIM_NAME: Final = f"pulumi-resource-{NATIVE_PACKAGE}"
# The Pulumi package each offline provider serves → the Python SDK the program uses it through.
_SDKS: Final = {NATIVE_PACKAGE: "pulumi_azure_native", CLASSIC_PACKAGE: "pulumi_azure"}
_PACKAGE: Final = "_kmsguard_provider"

_BOOTSTRAP: Final = f"""
import importlib.util, sys
where = {str(PROVIDER_DIR)!r}
spec = importlib.util.spec_from_file_location({_PACKAGE!r}, where + "/__init__.py",
                                              submodule_search_locations=[where])
module = importlib.util.module_from_spec(spec)
sys.modules[{_PACKAGE!r}] = module
spec.loader.exec_module(module)
from {_PACKAGE}.__main__ import main
sys.exit(main(sys.argv[1:]))
"""


def _absolute_interpreter(python: str) -> str:
    path = Path(python)
    if not path.is_absolute():
        raise KmsguardError(f"the provider's interpreter must be an absolute path, not {python!r}")
    if not os.access(path, os.X_OK):
        raise KmsguardError(f"the provider's interpreter {python} is not an executable file")
    # Not resolved: a virtualenv's bin/python is a symlink whose target would lose the environment.
    return str(path)


def write_provider(bin_dir: Path, *, python: str, package: str = NATIVE_PACKAGE) -> Path:
    """Write the executable ``pulumi-resource-<package>`` shim into ``bin_dir`` and return its path;
    ``package`` is ``azure-native`` (default) or the classic ``azure``."""
    if package not in _SDKS:
        raise KmsguardError(f"kmsguard has no offline provider for package {package!r}")
    interpreter = _absolute_interpreter(python)
    bin_dir.mkdir(parents=True, exist_ok=True)
    shim = bin_dir / f"pulumi-resource-{package}"
    script = (
        "#!/bin/sh\n"
        f"# kmsguard's offline {package} provider (previews only; no Azure account).\n"
        f"exec {shlex.quote(interpreter)} -c {shlex.quote(_BOOTSTRAP)} "
        f'{shlex.quote("--kmsguard-package=" + package)} "$@"\n'
    )
    shim.write_text(script, encoding="utf-8")
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return shim


def provider_version(python: str) -> str | None:
    """The ``pulumi_azure_native`` version installed for the program's interpreter ``python``; ``None``
    when it has none (a program without azure-native resources needs no provider; one that imports the
    SDK fails on its own import, with the program's own error)."""
    return _sdk_version(python, _SDKS[NATIVE_PACKAGE])


def classic_provider_version(python: str) -> str | None:
    """The ``pulumi_azure`` (classic provider) version installed for ``python``; ``None`` when it has none."""
    return _sdk_version(python, _SDKS[CLASSIC_PACKAGE])


# The exit code of the version probe when the SDK is not installed (Python itself exits 1 on an
# uncaught exception and 2 on a usage error).
_NOT_INSTALLED: Final = 17


def _sdk_version(python: str, sdk: str) -> str | None:
    # "Not installed" is told by the exit code, not by reading the child's traceback.
    code = (
        "import importlib.metadata as m, sys\n"
        f"try:\n    print(m.version({sdk!r}))\n"
        f"except m.PackageNotFoundError:\n    sys.exit({_NOT_INSTALLED})"
    )
    try:
        done = subprocess.run(
            [python, "-c", code], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise KmsguardError(f"cannot ask {python} for its {sdk} version: {exc}") from None
    if done.returncode == _NOT_INSTALLED:
        return None
    if done.returncode != 0:
        raise KmsguardError(
            f"{sdk} is not installed for {python}: " + (done.stderr.strip().splitlines() or [""])[-1]
        )
    return done.stdout.strip()
