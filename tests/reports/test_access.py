"""Who may see which figures: `scope_for` and `narrow_scope` (the rules live in core/staff.py)."""
from __future__ import annotations

import pytest

from core.report_model import Scope
from core.reports import narrow_scope, scope_for
from db.models import Role, Staff, StaffRole


def staff(*roles: Role, organisation_id: int | None = None, active: bool = True) -> Staff:
    return Staff(name="x", organisation_id=organisation_id, is_active=active,
                 roles=[StaffRole(role=r.value) for r in roles])


@pytest.mark.parametrize(("person", "scope"), [
    (staff(Role.curator), Scope()),
    (staff(Role.head), Scope()),
    (staff(Role.analyst), Scope()),
    (staff(Role.admin), Scope()),
    (staff(Role.pos_officer), Scope(channel="pos")),
    (staff(Role.im_officer), Scope(channel="im")),
    (staff(Role.pos_officer, Role.im_officer), Scope(channels=("im", "pos"))),
    (staff(Role.recipient, organisation_id=7), Scope(organisation_id=7)),
    (staff(Role.recipient, Role.curator, organisation_id=7), Scope()),  # the widest role wins
    (staff(Role.recipient, Role.pos_officer, organisation_id=7), Scope(channel="pos")),
    (staff(Role.recipient), None),  # a recipient without an organisation sees nothing
    (staff(Role.gospublic_officer), None),
    (staff(Role.curator, active=False), None),
    (None, None),
])
def test_scope_for(person: Staff | None, scope: Scope | None) -> None:
    assert scope_for(person) == scope


def test_narrow_scope_forces_what_the_role_allows() -> None:
    # A recipient's forged organisation is replaced; topics and settlements stay theirs to choose.
    assert narrow_scope(Scope(organisation_id=7), Scope(organisation_id=8, topic_id=3)) == Scope(
        organisation_id=7, topic_id=3)
    # A ПОС officer asking for ИМ gets ПОС.
    assert narrow_scope(Scope(channel="pos"), Scope(channel="im")) == Scope(channel="pos")
    # An officer of both may pick one of them, not a third.
    both = Scope(channels=("im", "pos"))
    assert narrow_scope(both, Scope(channel="im")) == Scope(channel="im", channels=("im", "pos"))
    assert narrow_scope(both, Scope(channel="bot")) == both
    # The centre's people get what they ask, label included.
    asked = Scope(settlement_id=2, channel="bot", label="Высокое · бот")
    assert narrow_scope(Scope(), asked) == asked
    assert not narrow_scope(Scope(organisation_id=7), Scope(organisation_id=8, label="Чужая")).label
