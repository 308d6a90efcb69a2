"""The ``kmsguard`` command line.

Exit codes (DESIGN): 0 nothing blocked; 1 a subnet is blocked; 2 usage or input error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from kmsguard.errors import KmsguardError

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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "explain":
            return _explain(args)
        if args.command == "catalog":
            return _catalog(args)
    except KmsguardError as exc:
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
