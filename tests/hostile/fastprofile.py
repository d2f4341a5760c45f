"""A derandomized profile of few examples for the hostile run: it asks whether the suite
survives each target, which a few examples show as well as fifty."""

from hypothesis import settings

settings.register_profile("hostile", settings.get_profile("default"), max_examples=10,
                          derandomize=True, database=None, deadline=None)
