"""The suite's Hypothesis profiles, registered only when a run names a target: a project that
merely has the plugin installed keeps Hypothesis's own profiles (its `ci` above all).

Each is registered under a namespaced name (conformance-ci, ...) and, for the suite's own
runs, under its short name too, so that `--hypothesis-profile ci` means the suite's.
"""

from __future__ import annotations

from hypothesis import settings

#: Short name -> what it is: the default `ci` is derandomized, so a CI gate gives the same
#: result on every run.
PROFILES = {
    "dev": dict(max_examples=15, deadline=None),
    "ci": dict(max_examples=50, deadline=None, derandomize=True, database=None,
               print_blob=False),
    "thorough": dict(max_examples=500, deadline=None),
}
DEFAULT = "ci"


def register() -> None:
    """Register the profiles (namespaced and short names)."""
    # Built on Hypothesis's "default", not on the active profile: under a CI environment
    # variable Hypothesis makes its own "ci" active at import, and its derandomize=True would
    # leak into dev and thorough (a seed would then be ignored).
    base = settings.get_profile("default")
    for name, values in PROFILES.items():
        settings.register_profile(f"conformance-{name}", base, **values)
        settings.register_profile(name, base, **values)


def get(name: str) -> settings:
    """The profile `name` (short or namespaced); ValueError for an unknown one."""
    register()
    try:
        return settings.get_profile(name)
    except Exception:
        raise ValueError(f"unknown Hypothesis profile {name!r}; use dev, ci or thorough") from None
