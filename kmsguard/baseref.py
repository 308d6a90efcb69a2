"""The repository as it was at a git ref, for ``kmsguard preview|check --base-ref REF``.

The tree at REF is written with ``git archive`` into a temporary directory that is removed
afterwards. ``git archive`` only reads the repository, so nothing is ever left in the user's
``.git`` — a ``git worktree add`` would register the worktree there (``.git/worktrees/``, a lock)
and an interrupted run would leave it behind until ``git worktree prune``. What ``git archive``
does not carry: untracked and ignored files (the project's virtualenv: linked from the working tree,
see :func:`_link_virtualenv`), submodules, and files marked ``export-ignore``.
"""

from __future__ import annotations

import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kmsguard.errors import KmsguardError


class AbsentAtRef(KmsguardError):
    """The path is not in the commit: ``rel`` is where it would be, relative to the repository."""

    def __init__(self, message: str, rel: str) -> None:
        super().__init__(message)
        self.rel = rel


def _git(cwd: Path, *args: str) -> str:
    try:
        proc = subprocess.run(
            ["git", "-C", str(cwd), *args], capture_output=True, text=True, check=False, timeout=120
        )
    except FileNotFoundError:
        raise KmsguardError("--base-ref needs git, and no `git` is on PATH") from None
    if proc.returncode != 0:
        raise KmsguardError(
            proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"git {args[0]} failed"
        )
    return proc.stdout.strip()


@contextmanager
def at_ref(path: Path, ref: str) -> Iterator[Path]:
    """``path`` (a project directory or a file) as it is in the commit ``ref`` of its repository."""
    path = path.resolve()
    start = path if path.is_dir() else path.parent
    if not start.is_dir():
        raise KmsguardError(f"{path}: no such directory")
    try:
        top = Path(_git(start, "rev-parse", "--show-toplevel")).resolve()
    except KmsguardError as e:
        raise KmsguardError(f"--base-ref: {start} is not in a git repository ({e})") from None
    try:
        commit = _git(top, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    except KmsguardError:
        raise KmsguardError(f"--base-ref: {ref!r} is not a commit of the repository {top}") from None
    rel = path.relative_to(top)
    with tempfile.TemporaryDirectory(prefix="kmsguard-base-") as tmp:
        root = Path(tmp).resolve() / "tree"
        root.mkdir()
        _extract(top, commit, root)
        target = root / rel
        if not target.exists():
            raise AbsentAtRef(
                f"--base-ref: {rel.as_posix() or '.'} does not exist at {ref} ({commit[:12]})",
                rel.as_posix() or ".",
            )
        if target.is_dir():
            _link_virtualenv(target, root, top)
        yield target


def _extract(top: Path, commit: str, root: Path) -> None:
    proc = subprocess.Popen(
        ["git", "-C", str(top), "archive", "--format=tar", commit],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as archive:
            # "data": no absolute paths, no links out of the tree, no device files.
            archive.extractall(root, filter="data")
    except tarfile.TarError as e:
        proc.kill()
        raise KmsguardError(f"--base-ref: cannot unpack `git archive {commit[:12]}`: {e}") from e
    finally:
        proc.stdout.close()
        err = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
        code = proc.wait()
    if code != 0:
        raise KmsguardError(f"--base-ref: git archive {commit[:12]} failed: {err.strip()}")


def _link_virtualenv(project: Path, root: Path, top: Path) -> None:
    """The base project's ``runtime.options.virtualenv`` is untracked, so it is not in the archive:
    link it to the same path in the working tree, so the base program runs with the interpreter and
    packages the head uses (the comparison is then about the program, not the installed versions)."""
    from kmsguard.engine.project import load_project

    try:
        venv = load_project(project).virtualenv
    except KmsguardError:
        return  # the evaluation reports a bad Pulumi.yaml with its own message
    if venv is None or venv.exists():
        return
    try:
        rel = venv.relative_to(root)
    except ValueError:
        return  # outside the repository: the same path for both sides
    if (top / rel).is_dir():
        venv.parent.mkdir(parents=True, exist_ok=True)
        venv.symlink_to(top / rel, target_is_directory=True)
