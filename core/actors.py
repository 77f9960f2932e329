"""Who did something: recorded in every item event."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Actor:
    kind: str  # citizen, staff, system
    citizen_id: int | None = None
    staff_id: int | None = None

    @classmethod
    def citizen(cls, citizen_id: int) -> Actor:
        return cls("citizen", citizen_id=citizen_id)

    @classmethod
    def staff(cls, staff_id: int) -> Actor:
        return cls("staff", staff_id=staff_id)


SYSTEM = Actor("system")
