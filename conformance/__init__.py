"""A pytest plugin that checks PyTorch LR schedulers against the reference oracle.

Run it as `pytest --scheduler MODULE:ATTR [--spec NAME]`; see README.md.
"""

__version__ = "0.1.0"
