from __future__ import annotations

import pytest

from tests.reminders.world import World, make_world, msk


@pytest.fixture
async def world(sessionmaker, settings) -> World:
    # Thursday 30 April 2026, 15:00 in the district: the May holidays are ahead.
    return await make_world(sessionmaker, settings, msk(2026, 4, 30, 15, 0))
