"""The ``kmsguard`` command line.

Exit codes (DESIGN): 0 nothing blocked (for ``preview``/``check``: no mandatory violation); 1 blocked
(``pulumi preview`` with the pack would fail); 2 usage, bad input or a failing program.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from kmsguard.errors import KmsguardError
from kmsguard.report import FORMATS

EXIT_OK = 0
EXIT_BLOCKED = 1
EXIT_ERROR = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kmsguard",
        description="Prove that Azure subnets can reach the Windows KMS activation service (TCP 1688).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    explain = sub.add_parser(
        "explain",
        help="evaluate a network described in JSON and print per-subnet verdicts and traces",
        description="Evaluate a small network described in JSON (see network-description.schema.json).",
    )
    explain.add_argument("file", type=Path, help="network description (JSON)")
    explain.add_argument("--brief", action="store_true", help="show only the decisive step of each path")
    explain.add_argument("--color", choices=["auto", "always", "never"], default="auto")
    catalog = sub.add_parser("catalog", help="print the KMS endpoints per cloud, or the cloud of a location")
    catalog.add_argument("--location", help="print the cloud and endpoints for this Azure location")
    preview = sub.add_parser(
        "preview",
        help="run a Pulumi Python program offline and evaluate it with the kmsguard policy pack",
        description="Run the Pulumi program in DIR under mocks, as `pulumi preview` would, and drive the "
        "kmsguard policy pack over it (remediations applied like the engine applies them).",
    )
    preview.add_argument(
        "dir", nargs="?", type=Path, default=Path("."), help="Pulumi project directory (default: .)"
    )
    preview.add_argument("--stack", "-s", required=True, help="stack name (reads Pulumi.<stack>.yaml)")
    check = sub.add_parser(
        "check",
        help="evaluate a `pulumi stack export` file (the deployed state) with the kmsguard policy pack",
        description="Audit a `pulumi stack export` file: verdicts describe the deployed state; remediations "
        "are reported as what the next `pulumi up` would add, never applied.",
    )
    check.add_argument("state", type=Path, help="the output of `pulumi stack export` (JSON)")
    for command in (preview, check):
        command.add_argument(
            "--policy-config",
            type=Path,
            help="policy pack config, the format of `pulumi preview --policy-pack-config`",
        )
        command.add_argument(
            "--format", "-f", choices=FORMATS, default="text", help="report format (default: text)"
        )
        command.add_argument(
            "--output", "-o", type=Path, help="write the report to this file instead of stdout"
        )
        command.add_argument("--color", choices=["auto", "always", "never"], default="auto")
        command.add_argument(
            "--policy-pack",
            type=Path,
            default=None,
            metavar="DIR",
            help="the policy pack to drive (default: the kmsguard pack, policy/ next to the kmsguard package)",
        )
        command.add_argument("--timings", action="store_true", help="print the time split on stderr")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "explain":
            return _explain(args)
        if args.command == "catalog":
            return _catalog(args)
        if args.command in ("preview", "check"):
            return _evaluate(args)
    except KmsguardError as exc:
        program_traceback = getattr(exc, "traceback", "")
        if program_traceback:
            # The program's own traceback, as `pulumi preview` shows it, before our one-line summary.
            sys.stderr.write(
                program_traceback if program_traceback.endswith("\n") else program_traceback + "\n"
            )
        print(f"kmsguard: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_ERROR


def _explain(args: argparse.Namespace) -> int:
    from kmsguard.analysis import Verdict, analyze
    from kmsguard.collect.description import load_description
    from kmsguard.report import text

    network, settings = load_description(args.file)
    result = analyze(network, settings)
    colour = args.color == "always" or (args.color == "auto" and text.use_colour(sys.stdout))
    sys.stdout.write(text.render(result, colour=colour, verbose=not args.brief))
    return EXIT_BLOCKED if result.verdict is Verdict.BLOCKED else EXIT_OK


def _evaluate(args: argparse.Namespace) -> int:
    from kmsguard import evaluate
    from kmsguard.report import render

    config = evaluate.load_policy_config(args.policy_config)
    pack = args.policy_pack or evaluate.DEFAULT_PACK
    if args.policy_pack is None and not (pack / "PulumiPolicy.yaml").is_file():
        # A non-editable install has the library but not the repository's policy/ directory.
        raise KmsguardError(
            f"the kmsguard policy pack is not at {pack}; pass --policy-pack DIR (the repository's policy/)"
        )
    try:
        if args.command == "preview":
            ev = evaluate.evaluate_project(args.dir, args.stack, policy_config=config, pack_dir=pack)
        else:
            ev = evaluate.evaluate_export(args.state, policy_config=config, pack_dir=pack)
    except evaluate.PolicyConfigError as exc:
        if args.policy_config is not None:
            raise KmsguardError(f"{args.policy_config}: {exc}") from exc
        raise
    to_terminal = args.output is None
    colour = args.color == "always" or (args.color == "auto" and to_terminal and text_colour(sys.stdout))
    report = render(ev, args.format, colour=colour and args.format == "text")
    if args.output is None:
        sys.stdout.write(report)
    else:
        try:
            args.output.write_text(report, encoding="utf-8")
        except OSError as e:
            raise KmsguardError(f"{args.output}: cannot write: {e.strerror or e}") from e
    if args.timings:
        t = ev.timings
        print(
            f"kmsguard: {len(ev.drive.final_resources)} resources; program {t['program']:.3f}s, pack start "
            f"{t['pack_start']:.3f}s, pack RPCs {t['pack']:.3f}s, analysis {t['analysis']:.3f}s, total {t['total']:.3f}s",
            file=sys.stderr,
        )
    return EXIT_BLOCKED if ev.blocked else EXIT_OK


def text_colour(stream: IO[str]) -> bool:
    from kmsguard.report import text

    return text.use_colour(stream)


def _catalog(args: argparse.Namespace) -> int:
    from kmsguard.catalog import load_catalog

    catalog = load_catalog()
    if args.location:
        name = catalog.cloud_of_location(args.location)
        note = catalog.location_note(args.location)
        if name is None:
            print(f"{args.location}: cloud unknown ({note or 'not a documented location'})")
            return EXIT_OK
        cloud = catalog.cloud(name)
        print(f"{args.location}: {cloud.display_name}" + (f" — {note}" if note else ""))
        clouds = [cloud]
    else:
        clouds = list(catalog.clouds.values())
    for cloud in clouds:
        print(f"{cloud.display_name} ({cloud.name}){' — closed' if cloud.closed else ''}")
        for e in cloud.endpoints:
            print(
                f"  {e.fqdn:32} {e.ip:16} TCP {e.port}{'  (legacy IP, still to be routed per S1)' if e.legacy else ''}"
            )
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
