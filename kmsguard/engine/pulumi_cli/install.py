"""Find the real Pulumi CLI: ``KMSGUARD_PULUMI``, then ``make engine``'s cache, then ``pulumi`` on PATH.

The build of ``make engine`` (tools/pulumi-engine/build.sh) goes to
``${KMSGUARD_ENGINE_HOME:-${XDG_CACHE_HOME:-~/.cache}/kmsguard-engine}/<version>/bin``. A CLI older than
``MIN_VERSION`` cannot start an executable policy pack or a directory pack through the language host,
which the sandbox relies on, so it is passed over.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from kmsguard.engine.errors import EngineUnavailable

__all__ = ["MIN_VERSION", "NO_CLI", "PulumiCli", "engine_cache", "find_pulumi", "require_pulumi"]

MIN_VERSION: Final = (3, 221, 0)
# What the real-engine tests say when they skip (tests/realengine/conftest.py, tests/conftest.py).
NO_CLI: Final = "no Pulumi CLI found: run `make engine` (needs Go) to run the real-engine tests"
_VERSION: Final = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)")


@dataclass(frozen=True)
class PulumiCli:
    path: Path
    version: str  # as `pulumi version` prints it, e.g. "v3.274.0"


def engine_cache() -> Path:
    """Where ``make engine`` puts its builds (one directory per version)."""
    explicit = os.environ.get("KMSGUARD_ENGINE_HOME")
    if explicit:
        return Path(explicit)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "kmsguard-engine"


def _version_of(path: Path) -> str | None:
    try:
        done = subprocess.run(
            [str(path), "version"],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"},
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = done.stdout.strip()
    return text if done.returncode == 0 and _VERSION.match(text) else None


def _usable(version: str) -> bool:
    m = _VERSION.match(version)
    return m is not None and tuple(int(x) for x in m.groups()) >= MIN_VERSION


def _candidates() -> list[Path]:
    found: list[Path] = []
    explicit = os.environ.get("KMSGUARD_PULUMI")
    if explicit:
        return [Path(explicit)]
    cache = engine_cache()
    if cache.is_dir():
        # Newest build first.
        for bin_dir in sorted(cache.glob("v*/bin"), key=lambda p: _sort_key(p.parent.name), reverse=True):
            found.append(bin_dir / "pulumi")
    on_path = shutil.which("pulumi")
    if on_path:
        found.append(Path(on_path))
    return found


def _sort_key(version: str) -> tuple[int, ...]:
    m = _VERSION.match(version)
    return tuple(int(x) for x in m.groups()) if m else ()


def find_pulumi() -> PulumiCli | None:
    """The first usable CLI, or ``None``."""
    for path in _candidates():
        if not path.is_file() or not os.access(path, os.X_OK):
            continue
        version = _version_of(path)
        if version is not None and _usable(version):
            return PulumiCli(path=path.resolve(), version=version)
    return None


def require_pulumi() -> PulumiCli:
    """The CLI for ``--engine pulumi``, or a clear error saying how to get one."""
    cli = find_pulumi()
    if cli is None:
        explicit = os.environ.get("KMSGUARD_PULUMI")
        where = f"KMSGUARD_PULUMI={explicit} is not a usable pulumi" if explicit else "no pulumi CLI found"
        raise EngineUnavailable(
            f"{where} (v{'.'.join(map(str, MIN_VERSION))} or newer); run `make engine` in the kmsguard "
            "repository to build one, or use --engine mocks"
        )
    return cli
