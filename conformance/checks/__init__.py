"""The check catalogue, one module per family (importing registers the checks).

The formula families come first, so that a run shows a root cause (the target's trajectory is
wrong) before what follows from it, and `-x` stops there."""

from conformance.checks import oracle, recurrence  # noqa: I001  (the order is the run's)
from conformance.checks import chain, groups, state, resume, construct, warns, api, cost
from conformance.versions import checks as versions
# Last: a target that accepts an invalid value may hang, and a hang stops its later checks.
from conformance.checks import invalid

__all__ = ["api", "chain", "construct", "cost", "groups", "invalid", "oracle", "recurrence",
           "resume", "state", "versions", "warns"]
