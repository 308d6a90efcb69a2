"""The real-engine benchmark keeps working: one tiny run of ``bench.real_engine`` and the program generator.

No timing is asserted (figures are measured by ``python -m bench.real_engine`` and reported in
``bench/README.md``); what is asserted is what the benchmark relies on: programs of the exact size asked
for, a real ``pulumi preview`` of one with and without the kmsguard pack that shows every resource, the
stand-in's run of the same program, and the measurements recorded for each.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

# bench/ is a top-level package of the repository, not of the installed project.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.program import HUB_RESOURCES, MIN_SIZE, count, generate, write_program  # noqa: E402
from kmsguard.engine.pulumi_cli.install import find_pulumi  # noqa: E402


@pytest.mark.parametrize("size", [MIN_SIZE, 20, 100, 1000, 1001])
def test_program_has_exactly_the_size_asked_for(size: int) -> None:
    spec = generate(size)
    assert 2 + HUB_RESOURCES + sum(count(s) for s in spec["spokes"]) == size
    assert generate(size) == spec  # deterministic


def test_program_spokes_cover_every_kind() -> None:
    kinds = {s["kind"] for s in generate(1000)["spokes"]}
    assert kinds == {
        "tunnel-inline",
        "tunnel-standalone",
        "fw-denied",
        "nsg-deny",
        "unknown-nva",
        "direct",
        "over-limit",
    }


def test_program_below_the_smallest_is_refused() -> None:
    with pytest.raises(ValueError):
        generate(MIN_SIZE - 1)


def test_program_files(tmp_path: Path) -> None:
    write_program(tmp_path, 20, virtualenv=Path("/opt/venv"))
    assert 'virtualenv: "/opt/venv"' in (tmp_path / "Pulumi.yaml").read_text(encoding="utf-8")
    assert (tmp_path / "Pulumi.bench.yaml").is_file()
    compile((tmp_path / "__main__.py").read_text(encoding="utf-8"), "__main__.py", "exec")
    assert json.loads((tmp_path / "estate.json").read_text(encoding="utf-8"))["size"] == 20


def test_real_engine_runs_at_a_tiny_size(tmp_path: Path) -> None:
    if find_pulumi() is None:
        reason = "no Pulumi CLI (`make engine`, KMSGUARD_PULUMI or PATH)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    from bench.real_engine import main

    out = tmp_path / "results.json"
    assert main(["--sizes", "20", "--repeat", "1", "--with-record", "--out", str(out)]) == 0
    results = json.loads(out.read_text(encoding="utf-8"))
    (entry,) = results["sizes"]
    assert entry["size"] == 20
    runs = entry["runs"]
    assert set(runs) == {"bare", "pack", "pack+record", "mocks"}
    for what, (run,) in runs.items():
        assert run["exit"] == 0, (what, run)
        assert run["seconds"] > 0
        assert run["peak_tree_rss_mib"] > 0
    # every resource but the default provider is shown to be created, with and without the pack
    for what in ("bare", "pack", "pack+record"):
        assert runs[what][0]["to_create"] == 19, (what, runs[what][0])
    assert "pack" in runs["pack"][0]["peak_rss_by_role_mib"]
    assert "pack" not in runs["bare"][0]["peak_rss_by_role_mib"]
    assert runs["pack+record"][0]["record_mib"] is not None
    assert "20 resources" in runs["mocks"][0]["timings"]
    assert isinstance(entry["pack_share"], float)
