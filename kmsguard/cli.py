"""The ``kmsguard`` command line.

Exit codes (DESIGN): 0 nothing blocked (for ``preview``/``check``: no mandatory violation); 1 blocked
(``pulumi preview`` with the pack would fail); 2 usage, bad input or a failing program.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from kmsguard.errors import KmsguardError
from kmsguard.report import FORMATS

if TYPE_CHECKING:
    from kmsguard.diff import Diff
    from kmsguard.evaluate import Evaluation

EXIT_OK = 0
EXIT_BLOCKED = 1
EXIT_ERROR = 2
# markdown is rendered from the JSON report (kmsguard.report.markdown), the others from the evaluation.
REPORT_FORMATS = (*FORMATS, "markdown")
DIFF_FORMATS = ("text", "markdown", "json", "sarif")


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
    preview.add_argument(
        "--engine",
        choices=["auto", "pulumi", "mocks"],
        default="auto",
        help="auto (default): the real Pulumi CLI when one is found (`make engine`, KMSGUARD_PULUMI, PATH), "
        "else the stand-in; pulumi: a real `pulumi preview --policy-pack` in a sandbox, offline; mocks: "
        "the program under the SDK's mocks",
    )
    preview.add_argument(
        "--timeout",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="limit for the program run (default 600)",
    )
    check = sub.add_parser(
        "check",
        help="evaluate a `pulumi stack export` file (the deployed state) with the kmsguard policy pack",
        description="Audit a `pulumi stack export` file: verdicts describe the deployed state; remediations "
        "are reported as what the next `pulumi up` would add, never applied.",
    )
    check.add_argument("state", type=Path, help="the output of `pulumi stack export` (JSON)")
    diff = sub.add_parser(
        "diff",
        help="what a change does to KMS reachability: compare two JSON reports subnet by subnet",
        description="Compare two JSON reports of `kmsguard preview|check --format json` (base, then head), "
        "subnet by subnet and endpoint by endpoint. Exit 1 when a subnet regressed or an added subnet is "
        "blocked, else 0; 2 on errors.",
    )
    diff.add_argument("base", type=Path, help="the base's JSON report (e.g. the target branch)")
    diff.add_argument("head", type=Path, help="the head's JSON report (e.g. the pull request)")
    diff.add_argument(
        "--format",
        "-f",
        choices=DIFF_FORMATS,
        default="text",
        help="text, markdown (a PR comment or $GITHUB_STEP_SUMMARY), json (diff.schema.json) or sarif "
        "(results with baselineState; logical locations only)",
    )
    diff.add_argument("--output", "-o", type=Path, help="write the result to this file instead of stdout")
    for command in (preview, check):
        command.add_argument(
            "--baseline",
            type=Path,
            metavar="BASE.json",
            help="compare with this JSON report: text, json and markdown show the diff, sarif and html mark "
            "what changed; exit 1 only on a regression (see --fail-on)",
        )
        command.add_argument(
            "--base-ref",
            metavar="GIT_REF",
            help="compare with the same project (or state file) at this git commit, evaluated the same way "
            "(same stack, config and pack) from a temporary copy made with `git archive`",
        )
        command.add_argument(
            "--fail-on",
            choices=["regression", "blocked"],
            default=None,
            help="exit 1 on a regression against the baseline, or whenever the result is blocked "
            "(default: regression with --baseline/--base-ref, blocked otherwise)",
        )
    for command in (preview, check):
        command.add_argument(
            "--policy-config",
            type=Path,
            help="policy pack config, the format of `pulumi preview --policy-pack-config`",
        )
        command.add_argument(
            "--format",
            "-f",
            choices=REPORT_FORMATS,
            default="text",
            help="report format (default: text); markdown: a PR comment or $GITHUB_STEP_SUMMARY",
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
    """Exit codes are a contract (DESIGN "CLI"): 0 nothing mandatory, 1 blocked, 2 any error — usage,
    input, program or internal — with one line naming the file and what to do, never a Python
    traceback (the Pulumi program's own traceback is shown, as `pulumi preview` shows it), and
    128+N when signal N stopped the run (130 Ctrl-C, 143 SIGTERM) after every child and temporary
    directory is gone."""
    from kmsguard.engine import children

    args = _parser().parse_args(argv)
    with children.handling_signals():
        try:
            code = _dispatch(args)
            _flush_stdout()
        except children.Interrupted as exc:
            return _interrupted(exc.signum)
        except KmsguardError as exc:
            if children.interrupted() is not None:  # the error is the children we ended on a signal
                return _interrupted(children.interrupted() or 0)
            _report_error(exc)
            return EXIT_ERROR
        except Exception as exc:  # anything else is our bug: exit 2 (never 1), traceback to a file
            if children.interrupted() is not None:
                return _interrupted(children.interrupted() or 0)
            return _internal_error(exc)
        if children.interrupted() is not None:
            return _interrupted(children.interrupted() or 0)
        return code


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "explain":
        return _explain(args)
    if args.command == "catalog":
        return _catalog(args)
    if args.command in ("preview", "check"):
        from kmsguard.engine.mocks import runner

        # The program's print, stderr and pulumi.log output, shown as it runs (as `pulumi preview`
        # shows it) on stderr: stdout is the report.
        previous, runner.echo = runner.echo, sys.stderr
        try:
            return _evaluate(args)
        finally:
            runner.echo = previous
    if args.command == "diff":
        return _diff(args)
    return EXIT_ERROR


def _report_error(exc: KmsguardError) -> None:
    from kmsguard.engine.errors import ProgramError

    program_traceback = exc.traceback if isinstance(exc, ProgramError) else ""
    if program_traceback:
        # The program's own traceback, as `pulumi preview` shows it, before our one-line summary.
        _stderr(program_traceback if program_traceback.endswith("\n") else program_traceback + "\n")
    _stderr(f"kmsguard: error: {exc}\n")


def _internal_error(exc: BaseException) -> int:
    import tempfile
    import traceback

    full = "".join(traceback.format_exception(exc))
    try:
        fd, name = tempfile.mkstemp(prefix="kmsguard-crash-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as handle:
            handle.write(full)
        where = f"the full traceback is in {name}"
    except OSError as e:
        where = f"the traceback could not be saved ({e.strerror or e})"
    first = (str(exc).strip().splitlines() or [""])[0]
    detail = f"{type(exc).__name__}: {first[:300]}" if first else type(exc).__name__
    _stderr(f"kmsguard: internal error: {detail}; {where}; please report it\n")
    return EXIT_ERROR


def _interrupted(signum: int) -> int:
    import signal

    name = signal.Signals(signum).name if signum in signal.Signals.__members__.values() else str(signum)
    _stderr(f"kmsguard: stopped by {name}; the program and the policy pack were ended\n")
    return 128 + signum


def _stderr(text: str) -> None:
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (OSError, ValueError):
        pass  # nowhere left to say it; the exit code still does


def _emit(text: str) -> None:
    """The report on stdout. Lone surrogates (a name from a program) become ``\\udXXX`` escapes: in
    JSON and SARIF that is the JSON escape of the same code unit, elsewhere visible text."""
    data = text.encode("utf-8", "backslashreplace").decode("utf-8")
    try:
        try:
            sys.stdout.write(data)
        except UnicodeEncodeError:  # a console encoding without ✓ or →
            encoding = getattr(sys.stdout, "encoding", None) or "ascii"
            sys.stdout.write(data.encode(encoding, "backslashreplace").decode(encoding))
        sys.stdout.flush()
    except OSError as exc:
        _silence_stdout()
        raise KmsguardError(
            f"cannot write to standard output: {exc.strerror or exc}; write the report to a file with --output FILE"
        ) from None


def _flush_stdout() -> None:
    try:
        sys.stdout.flush()
    except OSError as exc:
        _silence_stdout()
        raise KmsguardError(f"cannot write to standard output: {exc.strerror or exc}") from None


def _silence_stdout() -> None:
    """Point fd 1 at /dev/null, so the interpreter's own flush at exit cannot fail a second time (it
    would print "Exception ignored" and exit 120)."""
    try:
        fd = sys.stdout.fileno()
        null = os.open(os.devnull, os.O_WRONLY)
    except (OSError, ValueError, AttributeError):
        return
    try:
        os.dup2(null, fd)
    finally:
        os.close(null)


def write_report(path: Path, text: str) -> None:
    """``--output``: a temporary file in the same folder, renamed over the old report, so a failed
    write (full disk, file-size limit, no permission) leaves the previous report whole."""
    import stat
    import tempfile

    data = text.encode("utf-8", "backslashreplace")
    target = path.resolve() if path.is_symlink() else path  # replace what the link points at
    if target.exists() and not target.is_file():
        # A device or a pipe (/dev/stdout, /dev/full, a FIFO a CI step reads): written in place;
        # renaming over it would replace the device node itself.
        try:
            with open(target, "wb") as handle:
                handle.write(data)
        except OSError as e:
            raise KmsguardError(f"{path}: cannot write the report: {e.strerror or e}") from None
        return
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as e:
        raise KmsguardError(f"{path}: cannot write the report: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            mode = stat.S_IMODE(os.stat(target).st_mode)
        except OSError:  # a new report: the mode write_text would give it
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise KmsguardError(
            f"{path}: cannot write the report: {e.strerror or e}; the previous report, if any, is unchanged"
        ) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _explain(args: argparse.Namespace) -> int:
    from kmsguard import inputs
    from kmsguard.analysis import Verdict, analyze
    from kmsguard.collect.description import parse_description
    from kmsguard.report import text

    data = inputs.load_json(args.file, "network description", limit=inputs.MAX_YAML_BYTES)
    network, settings = parse_description(data, str(args.file))
    result = analyze(network, settings)
    colour = args.color == "always" or (args.color == "auto" and text.use_colour(sys.stdout))
    _emit(text.render(result, colour=colour, verbose=not args.brief))
    return EXIT_BLOCKED if result.verdict is Verdict.BLOCKED else EXIT_OK


def _evaluate(args: argparse.Namespace) -> int:
    from kmsguard import evaluate
    from kmsguard.report import render

    config = evaluate.load_policy_config(args.policy_config)
    pack = args.policy_pack or evaluate.DEFAULT_PACK
    # Before the head runs, so a bad baseline fails fast.
    baseline = _baseline(args)
    try:
        if args.command == "preview":
            cli = evaluate.resolve_engine(args.engine)
            if cli is not None:
                ev = evaluate.evaluate_with_cli(
                    args.dir,
                    args.stack,
                    policy_config=config,
                    pack_dir=args.policy_pack,
                    timeout=args.timeout,
                    cli=cli,
                )
            else:
                ev = evaluate.evaluate_project(
                    args.dir, args.stack, policy_config=config, pack_dir=pack, timeout=args.timeout
                )
        else:
            ev = evaluate.evaluate_export(args.state, policy_config=config, pack_dir=pack)
    except evaluate.PolicyConfigError as exc:
        if args.policy_config is not None:
            raise KmsguardError(f"{args.policy_config}: {exc}") from exc
        raise
    if baseline is not None and not baseline:
        baseline = _empty_report(ev)
    to_terminal = args.output is None
    colour = args.color == "always" or (args.color == "auto" and to_terminal and text_colour(sys.stdout))
    compared = None
    if baseline is None and args.format != "markdown":
        report = render(ev, args.format, colour=colour and args.format == "text")
    else:
        report, compared = _compared(ev, args.format, baseline)
    if args.output is None:
        _emit(report)
    else:
        write_report(args.output, report)
    if args.timings:
        t = ev.timings
        print(
            f"kmsguard: {len(ev.drive.final_resources)} resources; program {t['program']:.3f}s, pack start "
            f"{t['pack_start']:.3f}s, pack RPCs {t['pack']:.3f}s, analysis {t['analysis']:.3f}s, total {t['total']:.3f}s",
            file=sys.stderr,
        )
    if compared is not None and (args.fail_on or "regression") == "regression":
        return EXIT_BLOCKED if compared.regressed else EXIT_OK
    return EXIT_BLOCKED if ev.blocked else EXIT_OK


def _baseline(args: argparse.Namespace) -> dict[str, Any] | None:
    """The base's JSON report: ``--baseline`` read, or ``--base-ref`` evaluated like the head. An
    empty dict: the base has no such project, stack or state file (new in the head), so the head is
    compared with an empty report (:func:`_empty_report`, made once the head has run)."""
    if args.baseline is not None and args.base_ref is not None:
        raise KmsguardError("--baseline and --base-ref: give one of them")
    if args.baseline is None and args.base_ref is None:
        if args.fail_on == "regression":
            raise KmsguardError("--fail-on regression needs --baseline BASE.json or --base-ref GIT_REF")
        return None
    from kmsguard.diff import load_report

    if args.baseline is not None:
        return load_report(args.baseline)
    import tempfile

    from kmsguard.baseref import AbsentAtRef, at_ref

    ref: str = args.base_ref
    target: Path = args.dir if args.command == "preview" else args.state
    try:
        with at_ref(target, ref) as base_target, tempfile.TemporaryDirectory() as tmp:
            absent = _new_in_head(args, base_target) if args.command == "preview" else None
            if absent is None:
                # The base goes through this very command (same engine, stack, config and pack) as a
                # JSON report.
                base_args = argparse.Namespace(**vars(args))
                base_args.dir = base_args.state = base_target
                base_args.baseline = base_args.base_ref = base_args.fail_on = None
                base_args.format, base_args.color = "json", "never"
                base_args.output = Path(tmp) / "base.json"
                try:
                    _evaluate(base_args)
                    return load_report(base_args.output)
                except KmsguardError as exc:
                    # The same class (a ProgramError keeps its traceback), saying which side failed.
                    exc.args = (f"the base at {ref}: {exc}",)
                    raise
    except AbsentAtRef as exc:
        if not target.exists():
            raise  # not in the head either: nothing new to compare with an empty base
        absent = f"project {_project_name(args.dir, exc.rel)}" if args.command == "preview" else exc.rel
    _stderr(f"kmsguard: the base at {ref} has no {absent}: comparing with an empty base\n")
    return {}


def _new_in_head(args: argparse.Namespace, base_dir: Path) -> str | None:
    """What of the head's project the base at the ref lacks: its project file, or the stack's config
    file (``Pulumi.<stack>.yaml`` in the stack config dir) that the head has; None when the base has
    both (or the head neither: then there is nothing new, and each side reports its own problem)."""
    from kmsguard.engine.project import load_project

    try:
        head = load_project(args.dir)
    except KmsguardError:
        return None  # the head's run reports it
    names = ("Pulumi.json", "Pulumi.yaml", "Pulumi.yml")
    if not any((base_dir / n).is_file() for n in names):
        return f"project {head.name}"
    try:
        head_stack = head.stack_file(args.stack)
        base_stack = load_project(base_dir).stack_file(args.stack)
    except KmsguardError:
        return None  # the base's (or the head's) run reports it
    if head_stack.is_file() and not base_stack.is_file():
        return f"stack {args.stack}"
    return None


def _project_name(project_dir: Path, default: str) -> str:
    from kmsguard.engine.project import load_project

    try:
        return load_project(project_dir).name
    except KmsguardError:
        return default


def _empty_report(ev: Evaluation) -> dict[str, Any]:
    """The report of a base without the head's stack (report.schema.json): the head's project and stack,
    no subnets, no violations: every head subnet is added, every mandatory violation new."""
    return {
        "project": ev.project,
        "stack": ev.stack,
        "blocked": False,
        "subnets": [],
        "violations": [],
        "remediations": [],
    }


def _compared(ev: Evaluation, fmt: str, baseline: Mapping[str, Any] | None) -> tuple[str, Diff | None]:
    """The report in ``fmt`` against the base (text, json, markdown: the diff; sarif, html: the head's
    report marked with what changed; junit: the head's); markdown without a base: the head's summary."""
    from kmsguard import diff
    from kmsguard.report import html, markdown, redact, render, sarif

    head = json.loads(render(ev, "json"))  # redacted, as a written report would be
    if baseline is None:
        return markdown.render_report(head), None
    result = diff.compare(baseline, head)
    if fmt == "text":
        return diff.render_text(result), result
    if fmt == "json":
        return diff.render_json(result), result
    if fmt == "markdown":
        return markdown.render_diff(result), result
    secrets = redact.secret_texts(ev)
    if fmt == "sarif":
        return redact.in_json(sarif.render(ev, baseline=baseline), secrets), result
    if fmt == "html":
        return redact.in_html(
            html.render(ev, changes=result.changes, new_violations=result.violations), secrets
        ), result
    return render(ev, fmt), result


def _diff(args: argparse.Namespace) -> int:
    from kmsguard import diff
    from kmsguard.report import markdown, sarif

    base = diff.load_report(args.base)
    head = diff.load_report(args.head)
    result = diff.compare(base, head)
    if args.format == "json":
        out = diff.render_json(result)
    elif args.format == "markdown":
        out = markdown.render_diff(result)
    elif args.format == "sarif":
        out = json.dumps(sarif.log_from_reports(base, head), indent=2, ensure_ascii=False) + "\n"
    else:
        out = diff.render_text(result)
    if args.output is None:
        _emit(out)
    else:
        write_report(args.output, out)
    return EXIT_BLOCKED if result.regressed else EXIT_OK


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
                f"  {e.fqdn:32} {e.ip:16} TCP {e.port}{'  (legacy IP, still to be routed per docs/rules.md#kms-routes)' if e.legacy else ''}"
            )
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
