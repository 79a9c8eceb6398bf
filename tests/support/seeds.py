"""Fixtures from the source documents (../shared/seeds): Metallic Rouge, Winter 2024.

13 episodes, dropping Thursdays on Crunchyroll from 2024-01-11; the weekly reviews rate
E01 "Crimson Is the Sound of Dawn" 4 stars and E02 "Wander in the Labyrinth" 2.5 stars.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.services.shows import ShowForm

TITLE = "Metallic Rouge"
EPISODE_TITLES = {1: "Crimson Is the Sound of Dawn", 2: "Wander in the Labyrinth"}
REVIEW_STARS = {1: 4.0, 2: 2.5}

METALLIC_ROUGE = ShowForm(
    title=TITLE,
    episodes=13,
    weekday="Thursday",
    time="23:30",
    timezone="America/New_York",
    start="2024-01-11",
    platform="Crunchyroll",
    season="Winter 2024",
)

# E01 drops 2024-01-11 23:30 EST = 2024-01-12 04:30 UTC
E01_AIR = datetime(2024, 1, 12, 4, 30, tzinfo=UTC)
BEFORE_SEASON = datetime(2024, 1, 8, 12, 0, tzinfo=UTC)

GUILD_ID = 424242
OTHER_GUILD_ID = 737373
ANNOUNCE_CHANNEL = 5001
FORUM_CHANNEL = 5002
TEXT_CHANNEL = 5003
PING_ROLE = 6001
