"""state_dict defects: holding objects, aliasing live state, forgetting fields on load."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch.optim import lr_scheduler as L


class StepLRStateHoldsOptimizer(L.StepLR):
    """state_dict() is a copy of __dict__, optimizer included."""

    SPEC, FAMILY = "StepLR", "state_dict"

    def state_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update({k: v for k, v in state_dict.items() if k != "optimizer"})


class SequentialLRStateHoldsSchedulers(L.SequentialLR):
    """state_dict() keeps the sub-scheduler objects instead of their state_dicts."""

    SPEC, FAMILY = "SequentialLR", "state_dict"

    def state_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        subs = state.pop("_schedulers")
        self.__dict__.update(state)
        for mine, theirs in zip(self._schedulers, subs, strict=True):
            mine.load_state_dict(theirs.state_dict())


class ChainedSchedulerForgetsSubStates(L.ChainedScheduler):
    """state_dict() saves only the chain's own fields, not the chained schedulers' states."""

    SPEC, FAMILY = "ChainedScheduler", "state_dict"

    def state_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(state_dict)


class MultiStepLRPopsMilestones(L.MultiStepLR):
    """Pops passed milestones off a pending list that state_dict() shares (not a snapshot)."""

    SPEC, FAMILY = "MultiStepLR", "state_dict"

    def get_lr(self) -> list[float]:  # type: ignore[override]
        if self._is_initial:
            self.pending = sorted(self.milestones.elements())
        hits = 0
        while self.pending and self.pending[0] == self.last_epoch:
            self.pending.pop(0)
            hits += 1
        return [g["lr"] * self.gamma**hits for g in self.optimizer.param_groups]


class ReduceLROnPlateauHistoryAliased(L.ReduceLROnPlateau):
    """Keeps a metric history list that state_dict() hands out live."""

    SPEC, FAMILY = "ReduceLROnPlateau", "state_dict"

    def step(self, metrics: Any, epoch: Any = None) -> None:  # type: ignore[override]
        self.__dict__.setdefault("history", []).append(float(metrics))
        super().step(metrics, epoch)


class CosineAnnealingWarmRestartsLoadForgetsCycle(L.CosineAnnealingWarmRestarts):
    """load_state_dict() restores last_epoch and base_lrs only, not T_i and T_cur."""

    SPEC, FAMILY = "CosineAnnealingWarmRestarts", "state_dict"

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.last_epoch = state_dict["last_epoch"]
        self.base_lrs = list(state_dict["base_lrs"])


class CyclicLRLoadForgetsEpoch(L.CyclicLR):
    """load_state_dict() keeps the fresh scheduler's last_epoch: the cycle restarts."""

    SPEC, FAMILY = "CyclicLR", "state_dict"

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict({k: v for k, v in state_dict.items() if k != "last_epoch"})


@dataclass
class DecayConfig:
    step_size: int
    gamma: float


class StepLRConfigObject(L.StepLR):
    """Keeps its arguments in a dataclass that state_dict() carries: weights_only refuses it."""

    SPEC, FAMILY = "StepLR", "state_dict"

    def __init__(self, optimizer: Any, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.config = DecayConfig(step_size, gamma)
        super().__init__(optimizer, step_size, gamma, last_epoch)
