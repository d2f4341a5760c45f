"""Family 6, resume: `last_epoch=k` needs `initial_lr` in every group (KeyError otherwise).

Resuming by `last_epoch` alone is not a contract torch 2.13 keeps: StepLR, MultiStepLR and
ConstantLR ignore `_is_initial`, so their constructor's step applies a boundary twice. The
documented restore (construct, then load both state_dicts) is checked by state_dict.*."""

from __future__ import annotations

import warnings

from conformance.catalogue import check
from conformance.harness import Case, Mismatch, Run, script
from conformance.targets import Target


@check("resume.missing_initial_lr", "last_epoch", "atomic")
def missing_initial_lr(target: Target, case: Case) -> None:
    """Building with last_epoch=k >= 0 on groups without 'initial_lr' raises KeyError."""
    k = max(case.steps, 1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Run(target, case, last_epoch=k)
    except KeyError:
        return
    except Exception as exc:
        raise Mismatch(f"last_epoch={k} without initial_lr raised {type(exc).__name__}: {exc}, "
                       "expected KeyError", actual=type(exc).__name__, expected="KeyError",
                       script=script(target, case, [f"build(last_epoch={k})"])) from None
    raise Mismatch(f"last_epoch={k} without initial_lr in the param groups did not raise "
                   "KeyError", expected="KeyError", actual="no error",
                   script=script(target, case, [f"build(last_epoch={k})  # no KeyError"]))

