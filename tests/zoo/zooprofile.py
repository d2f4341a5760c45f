"""The zoo's Hypothesis profile: the ci profile's 50 derandomized examples, without shrinking.
A kill needs a failing example, not the smallest one, and shrinking was a third of the run."""

from hypothesis import Phase, settings

settings.register_profile("zoo", settings.get_profile("default"), max_examples=50,
                          derandomize=True, database=None, deadline=None, print_blob=False,
                          phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target])
