"""Resume defects: last_epoch=k on groups without initial_lr does not raise KeyError."""

from __future__ import annotations

from typing import Any

from torch.optim import lr_scheduler as L


class StepLRFillsInitialLr(L.StepLR):
    """setdefault()s initial_lr from the group's lr whatever last_epoch is."""

    SPEC, FAMILY = "StepLR", "resume"

    def __init__(self, optimizer: Any, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        super().__init__(optimizer, step_size, gamma, last_epoch)


class CosineAnnealingLRDropsLastEpoch(L.CosineAnnealingLR):
    """Builds as a fresh scheduler (last_epoch=-1) and assigns last_epoch afterwards."""

    SPEC, FAMILY = "CosineAnnealingLR", "resume"

    def __init__(self, optimizer: Any, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        super().__init__(optimizer, T_max, eta_min)
        if last_epoch >= 0:
            self.last_epoch = last_epoch


class OneCycleLRAlwaysSetsInitialLr(L.OneCycleLR):
    """Writes initial_lr/max_lr/min_lr into the groups even when resuming (last_epoch >= 0)."""

    SPEC, FAMILY = "OneCycleLR", "resume"

    def __init__(self, optimizer: Any, max_lr: Any, total_steps: int | None = None,
                 **kwargs: Any) -> None:
        div = kwargs.get("div_factor", 25.0)
        final = kwargs.get("final_div_factor", 1e4)
        tops = max_lr if isinstance(max_lr, (list, tuple)) else [max_lr] * len(
            optimizer.param_groups)
        for group, top in zip(optimizer.param_groups, tops, strict=True):
            group["initial_lr"] = top / div
            group["max_lr"] = top
            group["min_lr"] = group["initial_lr"] / final
        super().__init__(optimizer, max_lr, total_steps, **kwargs)
