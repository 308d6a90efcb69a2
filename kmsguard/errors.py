"""The project's own error types.

Every problem with input (a catalog file, a policy config, a network description, a resource's
property bag) is raised as a ``ValidationError`` that names where the bad value is, so a user can
fix it without reading a traceback. What can fail while an engine runs (no engine, a pack that does
not start or answer, a refused policy config, a failing program) has its own subclasses in
``kmsguard.engine.errors``: callers tell errors apart by class, never by their text.
"""

from __future__ import annotations


class KmsguardError(Exception):
    """Base class of every error kmsguard raises on purpose."""


class ValidationError(KmsguardError):
    """Bad input: ``where`` names the file, resource or config key; ``prop`` the property path."""

    def __init__(self, where: str, prop: str, problem: str) -> None:
        self.where = where
        self.prop = prop
        self.problem = problem
        location = f"{where}: {prop}" if prop else where
        super().__init__(f"{location}: {problem}")


class InputError(KmsguardError):
    """A file a user handed kmsguard cannot be read as what it should be (encoding, syntax, size,
    depth, aliasing): the message is one line naming the file and the place, and what to do."""
