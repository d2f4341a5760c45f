"""The spec of diffusers' own schedule (reference/diffusers.py): the factory
`diffusers.optimization.get_piecewise_constant_schedule`, which returns a LambdaLR. (diffusers'
copies of transformers' factories bind the transformers specs, conformance/specs/transformers.)"""

from __future__ import annotations

from hypothesis import strategies as st

from conformance.specs import Args, Spec, register
from reference import diffusers as piecewise


def _multiple() -> st.SearchStrategy[float]:
    """The docstring's multiples, 0, and any in [0, 2]."""
    return st.one_of(st.sampled_from([1.0, 0.1, 0.01, 0.005, 0.0]), st.floats(0.0, 2.0))


@st.composite
def step_rules(draw: st.DrawFn) -> str:
    """A step_rules string: no rule to four, one-step to long ones, in the shape of the
    docstring's example or with spaces around the fields (which int() and float() take)."""
    rules = draw(st.lists(st.tuples(_multiple(), st.one_of(st.integers(1, 3),
                                                           st.integers(1, 80))), max_size=4))
    last = draw(_multiple())
    pad = draw(st.sampled_from(["", " "]))
    fields = [f"{pad}{v!r}{pad}:{pad}{n}{pad}" for v, n in rules] + [f"{pad}{last!r}{pad}"]
    return ",".join(fields)


def _horizon(a: Args) -> int:
    """Every rule's end, and 10 steps of the last multiple."""
    rules, _ = piecewise.parse(a["step_rules"])
    return sum(n for _, n in rules) + 10


# A LambdaLR: its lambda is a function of the step, so step(epoch) lands on it.
#: What the grammar refuses (docs/spec/diffusers.md; docs/spec.md, "Invalid arguments"): no
#: rule, a missing last multiple, a rule of no steps, a negative multiple.
INVALID = ({"step_rules": ""}, {"step_rules": "1:10"}, {"step_rules": "1:0,0.1"},
           {"step_rules": "-1:10,0.1"})

register(Spec(piecewise.PiecewiseConstant, lambda groups: st.fixed_dictionaries(
    {"step_rules": step_rules()}), _horizon, epoch_arg=True,
    binds=("diffusers.optimization:get_piecewise_constant_schedule",), invalid=INVALID))
