"""The check catalogue, one module per family (importing registers the checks)."""

from conformance.checks import (
    api,
    chain,
    cost,
    groups,
    oracle,
    recurrence,
    resume,
    state,
    versions,
    warns,
)

__all__ = ["api", "chain", "cost", "groups", "oracle", "recurrence", "resume", "state", "versions",
           "warns"]
