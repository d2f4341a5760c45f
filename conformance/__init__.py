"""A pytest plugin that checks PyTorch LR schedulers against the reference oracle.

Run it as `pytest --scheduler MODULE:ATTR [--spec NAME]`; see README.md.
"""

from typing import Any

__version__ = "0.1.0"
__all__ = ["check_scheduler"]


def check_scheduler(*args: Any, **kwargs: Any) -> Any:
    """Run the checks without pytest; see conformance.api.check_scheduler."""
    from conformance.api import check_scheduler as run

    return run(*args, **kwargs)
