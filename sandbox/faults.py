"""Fault injection for Bot API calls: 429 / 500 / 502 answers or delays.

A rule fires for the next ``count`` matching calls, or with ``probability`` on
each matching call (both may be combined), optionally only for some methods.
Randomness comes from a seeded :class:`random.Random` so runs are reproducible.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

from .errors import ApiError, too_many_requests

KINDS = ("429", "500", "502", "delay")
_ALIASES = {"retry_after": "429", "flood": "429", "internal": "500", "bad_gateway": "502", "timeout": "delay"}


@dataclass
class FaultRule:
    id: int
    kind: str
    count: int | None = None  # remaining firings; None = unlimited
    probability: float | None = None  # None = always (while count lasts)
    methods: frozenset[str] | None = None  # lower-case method names
    retry_after: int = 1
    delay: float = 0.0
    # after=True: the call really happens, then the answer is replaced/delayed —
    # "Telegram sent it but we got a 502/timeout", the case that breeds duplicates.
    after: bool = False

    def matches(self, method: str) -> bool:
        return self.methods is None or method.lower() in self.methods

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "count": self.count, "probability": self.probability,
            "methods": sorted(self.methods) if self.methods is not None else None,
            "retry_after": self.retry_after, "delay": self.delay, "after": self.after,
        }

    def error(self) -> ApiError | None:
        if self.kind == "429":
            return too_many_requests(self.retry_after)
        if self.kind == "500":
            return ApiError(500, "Internal Server Error")
        if self.kind == "502":
            return ApiError(502, "Bad Gateway")
        return None  # "delay" answers normally, just late


class FaultInjector:
    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        self.rules: list[FaultRule] = []
        self.injected: Counter[str] = Counter()
        self._ids = itertools.count(1)

    def add(self, spec: dict[str, Any]) -> FaultRule:
        kind = str(spec.get("kind", "500"))
        kind = _ALIASES.get(kind, kind)
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        if "seed" in spec and spec["seed"] is not None:
            self.rng.seed(int(spec["seed"]))
        if spec.get("count") is not None and int(spec["count"]) <= 0:
            raise ValueError("count must be positive")
        if spec.get("probability") is not None and not 0.0 <= float(spec["probability"]) <= 1.0:
            raise ValueError("probability must be within [0, 1]")
        methods = spec.get("methods")
        rule = FaultRule(
            id=next(self._ids),
            kind=kind,
            count=None if spec.get("count") is None else int(spec["count"]),
            probability=None if spec.get("probability") is None else float(spec["probability"]),
            methods=None if not methods else frozenset(str(m).lower() for m in methods),
            retry_after=int(spec.get("retry_after", 1)),
            delay=float(spec.get("delay", 0.0)),
            after=bool(spec.get("after", False)),
        )
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        self.rules.clear()

    def reset(self, seed: int) -> None:
        self.clear()
        self.injected.clear()
        self.rng.seed(seed)

    def pick(self, method: str) -> FaultRule | None:
        """The rule that fires for this call, consuming one of its ``count``."""
        for rule in list(self.rules):
            if not rule.matches(method):
                continue
            if rule.probability is not None and self.rng.random() >= rule.probability:
                continue
            if rule.count is not None:
                rule.count -= 1
                if rule.count <= 0:
                    self.rules.remove(rule)
            self.injected[rule.kind] += 1
            return rule
        return None
