"""`lr_fn(group)` is the closed form `lr(epoch)[group]`, bit for bit, for every schedule."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import reference
from conformance.specs import SPECS
from tests.reference.support import spec_case


@st.composite
def schedules(draw: st.DrawFn) -> tuple[reference.Schedule, int]:
    name = draw(st.sampled_from(sorted(n for n in SPECS if SPECS[n].schedule.closed)))
    lrs, args = draw(spec_case(name))
    try:
        oracle = SPECS[name].oracle(lrs, args)
    except ValueError:
        from hypothesis import reject

        reject()
    return oracle, SPECS[name].steps(args)


@settings(max_examples=150, deadline=None)
@given(schedules())
def test_lr_fn_is_the_closed_form(case: tuple[reference.Schedule, int]) -> None:
    oracle, horizon = case
    for g in range(oracle.groups):
        f = oracle.lr_fn(g)
        for e in range(0, horizon + 1, max(1, horizon // 50)):
            assert f(e) == oracle.lr(e)[g], (oracle, g, e)
