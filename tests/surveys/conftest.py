from __future__ import annotations

import pytest

from tests.reminders.world import World, make_world, msk


@pytest.fixture
async def world(sessionmaker, settings) -> World:
    # Monday 1 June 2026, 10:00 in the district; answers reach the citizen without review.
    world = await make_world(sessionmaker, settings, msk(2026, 6, 1, 10, 0))
    await world.option("review_mode", "never")
    return world
