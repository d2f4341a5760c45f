"""A pytest plugin that checks PyTorch LR schedulers against the reference oracle.

Run it as `pytest --scheduler MODULE:ATTR [--spec NAME]`; see README.md. Without pytest:
`from conformance import check_scheduler`.
"""

from typing import Any

__version__ = "0.1.0"
__all__ = ["check_scheduler"]


def __getattr__(name: str) -> Any:
    # Imported on first use: the plugin's own start-up must stay light.
    if name == "check_scheduler":
        from conformance.api import check_scheduler

        return check_scheduler
    raise AttributeError(f"module 'conformance' has no attribute {name!r}")
