"""The mutant zoo: deliberately broken schedulers, one realistic defect each, that the
conformance suite must catch (issue 5), plus correct independent implementations it must pass.

Import as the top-level package `zoo`: put `tests/zoo` on sys.path (the runner does, through
PYTHONPATH for its pytest subprocess), e.g. `PYTHONPATH=tests/zoo pytest --scheduler
zoo.oracle:StepLROffByOne --spec StepLR`.

Every broken member is a class with `SPEC` (the spec to bind with --spec), `FAMILY` (the check
family expected to catch it: oracle, recurrence, chain, warnings, state_dict, resume, groups,
api, cost, versions, construct) and a one-line docstring naming the defect.
Members of `zoo.correct` have `SPEC` and no `FAMILY`: they must pass every applicable check.
"""

MODULES = ("oracle", "recurrence", "chain", "warns", "state", "resume", "groups", "api",
           "seeds", "cost", "versions", "thirdparty", "protocols", "eco_timm", "eco_nemo",
           "eco_deepspeed", "eco_ignite", "eco_mmengine", "eco_speechbrain", "invalid",
           "eco_findings", "contracts")
CORRECT = "correct"
