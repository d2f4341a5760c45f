"""The check catalogue, one module per family (importing registers the checks)."""

from conformance.checks import api, chain, groups, oracle, recurrence, resume, state, warns

__all__ = ["api", "chain", "groups", "oracle", "recurrence", "resume", "state", "warns"]
