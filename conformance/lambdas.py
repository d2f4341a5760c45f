"""Picklable lr_lambda callables the suite draws for LambdaLR and MultiplicativeLR.

Callable objects, not closures: torch saves a callable object's `__dict__` in the
state_dict, and a reproducer can import them by name.
"""

from __future__ import annotations

import math


class Lam:
    """A documented lr multiplier shape: exp (a**e), inv (1/(1+a e)), warm (min(1,(e+1)/a)),
    cos (half cosine over a epochs), const (a)."""

    def __init__(self, kind: str, a: float) -> None:
        self.kind = kind
        self.a = a

    def __call__(self, epoch: int) -> float:
        a = self.a
        if self.kind == "exp":
            return float(a**epoch)
        if self.kind == "inv":
            return 1.0 / (1.0 + a * epoch)
        if self.kind == "warm":
            return min(1.0, (epoch + 1) / a)
        if self.kind == "cos":
            return 0.5 * (1.0 + math.cos(math.pi * min(epoch, a) / a))
        return a

    def __repr__(self) -> str:
        return f"Lam({self.kind!r}, {self.a!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Lam) and (self.kind, self.a) == (other.kind, other.a)

    def __hash__(self) -> int:
        return hash((self.kind, self.a))
