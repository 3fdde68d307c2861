"""Exceptions raised by implicit_bias.

All of them derive from ``ValueError`` so that generic input-checking code keeps working.
"""

from __future__ import annotations


class NotSeparableError(ValueError):
    """The data (X, y) cannot be separated by a linear classifier through the origin."""


class NotSeparableWarning(RuntimeWarning):
    """A run was started on data that are not linearly separable through the origin (the message
    says why); it runs, but the theory's limit directions do not exist for it. Callers that need
    separable data (the CLI, experiments) may turn it into an error."""


class DegenerateProblemError(ValueError):
    """A reference problem has no unique / well-defined answer (e.g. a singular preconditioner)."""


class IllConditionedError(ValueError, RuntimeError):
    """A reference solver cannot answer to its certified accuracy on these data (e.g. column scales
    that differ by ~1e6 or more make the dual's Gram matrix singular in double): the message says
    which and how to rescale X. Never returned as an uncertified answer. A RuntimeError too, for
    callers that caught solver failures as such."""


class ConvergenceWarning(RuntimeWarning):
    """An iterative reference solver stopped before meeting its tolerance; its answer is approximate."""


class DegenerateProblemWarning(RuntimeWarning):
    """A reference problem is degenerate (non-unique maximiser, singular preconditioner); read the
    result's ``note`` / ``message`` before comparing against it."""


class RunFileError(ValueError):
    """A saved run or trajectory file cannot be used: missing, truncated, corrupted or edited.

    The message names the file and, where it applies, the field and what was expected.
    """


class StoreWarning(RuntimeWarning):
    """A cached result on disk (a sweep / reproduce cell, a references file) was damaged, incomplete,
    swapped or written by another version; the message names the file, and the result is computed
    again instead of being read."""
