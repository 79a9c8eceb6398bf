"""The season wrap-up on a seeded Metallic Rouge season: score, best/worst, ties, favourites,
participation, partial and empty seasons, the embed, the CSV and the cog's edges."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import discord
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import ManualClock
from bot.db.engine import SessionFactory
from bot.errors import NotFoundError
from bot.render.wrapup import CSV_HEADER, EMBED_MAX, FIELD_MAX, wrapup_csv, wrapup_embed, wrapup_ready_text
from bot.services.drops import DropContext, Posted
from bot.services.wrapup import WrapUp, build_wrapup, group_answers
from cogs import season as season_cog
from cogs.season import PUBLISH_REFUSED, SeasonCog
from tests.support.season import (
    AFTER_SEASON,
    MEMBER,
    MID_SEASON,
    SEASON_RATINGS,
    SEASON_SCORE,
    Answers,
    Season,
    seed_season,
)
from tests.support.seeds import ANNOUNCE_CHANNEL, BEFORE_SEASON, E01_AIR, GUILD_ID, OTHER_GUILD_ID, TITLE

SQLITE_ONLY = pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)


async def wrapup_of(session: AsyncSession, season: Season, now: Any = AFTER_SEASON) -> WrapUp:
    await seed_season(session, season, now)
    return await build_wrapup(session, season.guild_id, TITLE, now)


def fields(embed: discord.Embed) -> dict[str, str]:
    return {str(f.name): str(f.value) for f in embed.fields}


# --- the whole season ----------------------------------------------------------------------------


async def test_season_score_is_the_mean_of_episode_averages(session: AsyncSession) -> None:
    wrapup = await wrapup_of(session, Season())
    assert wrapup.complete and wrapup.aired_count == 13
    assert wrapup.score == pytest.approx(SEASON_SCORE)
    assert wrapup.shown_score == 292
    assert wrapup.ratings == SEASON_RATINGS
    assert len(wrapup.rated) == 13


async def test_episode_averages_keep_half_stars(session: AsyncSession) -> None:
    wrapup = await wrapup_of(session, Season())
    e01, e02 = wrapup.episodes[0], wrapup.episodes[1]
    assert (e01.title, e01.average, e01.ratings) == ("Crimson Is the Sound of Dawn", 4.0, 5)
    assert (e02.title, e02.average, e02.ratings) == ("Wander in the Labyrinth", 2.5, 5)
    assert e01.histogram == (0, 0, 0, 0, 0, 0, 1, 3, 1, 0)  # 3½ ★ once, 4 ★ three times, 4½ ★ once
    assert wrapup.episodes[3].average == 3.25
    assert wrapup.episodes[10].average == pytest.approx(2.3)


async def test_best_and_worst_episode(session: AsyncSession) -> None:
    wrapup = await wrapup_of(session, Season())
    assert wrapup.best is not None and wrapup.worst is not None
    assert wrapup.best.episode.number == 1 and not wrapup.best.tied
    assert wrapup.best.shown_average == 400
    assert wrapup.worst.episode.number == 12 and wrapup.worst.shown_average == 200


async def test_participation_and_the_most_discussed_episode(session: AsyncSession) -> None:
    wrapup = await wrapup_of(session, Season())
    assert wrapup.raters == 6
    assert wrapup.finished == 4  # E12 and E07 are not the whole season
    assert [e.ratings for e in wrapup.episodes][:3] == [5, 5, 5]
    assert wrapup.most_discussed is not None
    assert wrapup.most_discussed.numbers == (12,) and wrapup.most_discussed.messages == 57


async def test_the_clubs_favourites_are_grouped_by_their_words(session: AsyncSession) -> None:
    survey = (await wrapup_of(session, Season())).survey
    assert survey.respondents == 6
    top = survey.characters[0]
    # "Rouge Redstar" twice, "rouge  redstar" and "ROUGE REDSTAR": one character, the usual spelling.
    assert (top.label, top.count) == ("Rouge Redstar", 4)
    assert [(f.label, f.count) for f in survey.characters[1:]] == [("Ash Stahl", 1), ("Naomi Orthmann", 1)]
    assert (survey.least_moments[0].label, survey.least_moments[0].count) == ("The Puppeteer reveal", 3)
    assert {f.label: f.count for f in survey.moments}["The gritty Mars of the first episodes"] == 2
    assert survey.more == {"yes": 3, "maybe": 1, "no": 1}
    assert survey.more_please == pytest.approx(3 / 5)
    # The latest few verdicts (the first member answered last).
    assert survey.verdicts[0] == "Fine. Too many ideas for thirteen episodes."
    assert len(survey.verdicts) == 3


def test_grouping_ignores_case_and_spacing_and_labels_with_the_usual_spelling() -> None:
    grouped = group_answers(
        [("Naomi", 1), ("naomi ", 2), ("NAOMI", 1), ("Rouge", 2), ("Ash  Stahl", 1), ("ash stahl", 1), ("  ", 4)],
        limit=5,
    )
    assert [(f.label, f.count) for f in grouped] == [("naomi", 4), ("Ash Stahl", 2), ("Rouge", 2)]
    assert group_answers([("A", 1), ("B", 1), ("C", 1)], limit=2) == group_answers([("A", 1), ("B", 1)])


# --- ties ------------------------------------------------------------------------------------------


async def test_ties_are_resolved_and_said(session: AsyncSession) -> None:
    votes = {
        1: (6, 6),  # 3.00
        2: (8, 8, 8),  # 4.00 from three ratings
        3: (9, 7),  # 4.00 from two
        4: (4, 4),  # 2.00 from two
        5: (4,),  # 2.00 from one
    }
    wrapup = await wrapup_of(session, Season(votes=votes))
    assert wrapup.best is not None and wrapup.worst is not None
    assert [e.number for e in wrapup.best.episodes] == [2, 3]
    assert wrapup.best.decided_by == "more ratings"
    assert [e.number for e in wrapup.worst.episodes] == [4, 5]
    text = fields(wrapup_embed(wrapup))
    assert "Tied: E02 and E03" in text["🏆 Best episode"]
    assert "E02 is shown for more ratings" in text["🏆 Best episode"]
    assert "Tied: E04 and E05" in text["🥀 Worst episode"]


async def test_a_tie_as_shown_is_a_tie_and_the_earlier_episode_leads(session: AsyncSession) -> None:
    # 20 half stars from 3 ratings = 3.333…; 333 from 50 = 3.33 exactly: both show ★ 3.33.
    votes = {1: (7, 7, 6), 2: (4, 4, 4), 3: (7,) * 33 + (6,) * 17, 4: (7, 6, 7)}
    wrapup = await wrapup_of(session, Season(votes=votes))
    assert wrapup.best is not None
    assert [e.number for e in wrapup.best.episodes] == [3, 1, 4]  # E03 has more ratings; then E01 before E04
    assert wrapup.best.shown_average == 333
    tie = replace(wrapup.best, episodes=(wrapup.best.episodes[1], wrapup.best.episodes[2]))
    assert tie.decided_by == "the earlier episode"


async def test_no_worst_episode_when_all_score_the_same(session: AsyncSession) -> None:
    wrapup = await wrapup_of(session, Season(votes={1: (8,), 2: (8, 8)}))
    assert wrapup.best is not None and wrapup.best.tied
    assert wrapup.worst is None
    assert fields(wrapup_embed(wrapup))["🥀 Worst episode"] == "Every rated episode scored the same."


# --- partial and empty seasons -----------------------------------------------------------------------


async def test_mid_season_says_so_far(session: AsyncSession) -> None:
    wrapup = await wrapup_of(session, Season().until(7), MID_SEASON)
    assert not wrapup.complete
    assert (wrapup.aired_count, wrapup.episode_count) == (7, 13)
    assert [e.aired for e in wrapup.episodes] == [True] * 7 + [False] * 6
    assert wrapup.best is not None and wrapup.best.episode.number == 1
    assert wrapup.worst is not None and wrapup.worst.episode.number == 2
    assert wrapup.finished == 0 and wrapup.caught_up == 6
    embed = wrapup_embed(wrapup)
    assert "So far, 7 of 13 episodes have aired." in str(embed.description)
    assert "caught up with the 7 aired episodes" in fields(embed)["👥 Participation"]


async def test_a_season_without_ratings_says_so_instead_of_a_chart(session: AsyncSession) -> None:
    empty = Season(votes={}, messages={}, progress={}, answers={})
    wrapup = await wrapup_of(session, empty, E01_AIR + timedelta(days=1))
    assert wrapup.score is None and wrapup.best is None and wrapup.worst is None
    assert wrapup.most_discussed is None and wrapup.survey.respondents == 0
    embed = wrapup_embed(wrapup)
    assert "No ratings yet" in str(embed.description)
    assert embed.image.url is None
    assert "⭐ Season score" not in fields(embed)
    assert fields(embed)["💬 Most discussed"] == "No messages in the discussion threads yet."


async def test_before_the_first_drop_nothing_has_aired(session: AsyncSession) -> None:
    wrapup = await wrapup_of(session, Season(votes={}, messages={}, progress={}, answers={}), BEFORE_SEASON)
    assert wrapup.aired_count == 0
    embed = wrapup_embed(wrapup)
    assert "So far, 0 of 13 episodes have aired." in str(embed.description)
    assert fields(embed)["👥 Participation"] == "Nothing has aired yet."


async def test_another_server_cannot_see_the_wrapup(session: AsyncSession) -> None:
    await seed_season(session, Season(), AFTER_SEASON)
    await seed_season(
        session, Season(guild_id=OTHER_GUILD_ID, votes={}, messages={}, progress={}, answers={}), AFTER_SEASON
    )
    theirs = await build_wrapup(session, OTHER_GUILD_ID, TITLE, AFTER_SEASON)
    assert theirs.ratings == 0 and theirs.survey.respondents == 0  # our votes and answers stay ours
    with pytest.raises(NotFoundError):
        await build_wrapup(session, 999_999, TITLE, AFTER_SEASON)


# --- the embed and the CSV -------------------------------------------------------------------------------


async def test_embed_shows_the_wrapup(session: AsyncSession) -> None:
    embed = wrapup_embed(await wrapup_of(session, Season()))
    assert embed.title == "🎬 Metallic Rouge — season wrap-up"
    assert embed.image.url == "attachment://wrapup.png"
    text = fields(embed)
    assert text["⭐ Season score"].startswith("**★ 2.92** / 5")
    assert "62 ratings" in text["⭐ Season score"]
    assert "**E01** · *Crimson Is the Sound of Dawn*" in text["🏆 Best episode"]
    assert "★ 4.00 · 5 ratings" in text["🏆 Best episode"]
    assert text["🥀 Worst episode"].startswith("**E12**")
    assert "**4** finished the season (all 13 marked watched)" in text["👥 Participation"]
    assert text["💬 Most discussed"] == "**E12** · 57 messages"
    assert text["❤️ Favourite characters"].startswith("1. **Rouge Redstar** · 4 votes")
    assert text["🔁 Would you like some more?"].startswith("**60%** more, please")
    assert "6 members answered" in str(embed.footer.text)


async def test_embed_neutralises_mentions_and_respects_discord_limits(session: AsyncSession) -> None:
    loud = "@everyone <@&123456789012345678> **look** " * 20
    answers = {
        MEMBER + i: Answers(loud[:97] + str(i), (str(i) + loud)[:300], ("x" + loud)[:300], "yes", loud[:150])
        for i in range(30)
    }
    season = Season(answers=answers, titles={1: "@here " + "t" * 190})
    embed = wrapup_embed(await wrapup_of(session, season))
    assert len(embed) <= EMBED_MAX
    assert len(embed.fields) <= 25 and len(str(embed.title)) <= 256
    assert all(len(str(f.value)) <= FIELD_MAX and len(str(f.name)) <= 256 for f in embed.fields)
    flat = "\n".join([str(embed.title), str(embed.description), *(f"{f.name}\n{f.value}" for f in embed.fields)])
    assert "@everyone" not in flat and "@here" not in flat and "<@&123456789012345678>" not in flat
    assert "@\u200beveryone" in flat


async def test_csv_has_the_per_episode_figures(session: AsyncSession) -> None:
    wrapup = await wrapup_of(session, Season(titles={1: "Crimson Is the Sound of Dawn", 2: "=HYPERLINK(1)"}))
    data = wrapup_csv(wrapup)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == CSV_HEADER
    assert len(rows) == 14
    e01 = dict(zip(CSV_HEADER, rows[1], strict=True))
    assert e01["episode"] == "1" and e01["title"] == "Crimson Is the Sound of Dawn"
    assert e01["air_date"] == "2024-01-11"  # Thursday evening in New York
    assert (e01["average"], e01["ratings"], e01["messages"]) == ("4.00", "5", "42")
    assert [e01[f"stars_{h / 2:.1f}"] for h in range(1, 11)] == ["0", "0", "0", "0", "0", "0", "1", "3", "1", "0"]
    assert rows[2][1] == "'=HYPERLINK(1)"  # never a spreadsheet formula
    assert rows[2][4] == "2.50"


async def test_csv_mid_season_leaves_unaired_episodes_blank(session: AsyncSession) -> None:
    rows = list(
        csv.reader(io.StringIO(wrapup_csv(await wrapup_of(session, Season().until(7), MID_SEASON)).decode("utf-8-sig")))
    )
    e08 = dict(zip(CSV_HEADER, rows[8], strict=True))
    assert (e08["aired"], e08["average"], e08["ratings"], e08["messages"]) == ("no", "", "0", "")


# --- the cog's edges ---------------------------------------------------------------------------------------


class FakeMessage:
    def __init__(self, message_id: int) -> None:
        self.id = message_id
        self.jump_url = f"https://discord.com/channels/{GUILD_ID}/{ANNOUNCE_CHANNEL}/{message_id}"


class FakeChannel:
    id = ANNOUNCE_CHANNEL

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send(self, content: str | None = None, **kwargs: Any) -> FakeMessage:
        self.sent.append({"content": content, **kwargs})
        return FakeMessage(9000 + len(self.sent))


class FakePublisher:
    def __init__(self) -> None:
        self.channel = FakeChannel()
        self.handlers: dict[str, Any] = {}

    def register(self, kind: str, handler: Any) -> None:
        self.handlers[kind] = handler

    async def messageable(self, channel_id: int) -> FakeChannel:
        assert channel_id == ANNOUNCE_CHANNEL
        return self.channel

    def channel_name(self, channel_id: int) -> str:
        return "#announcements"


class FakeResponse:
    def __init__(self) -> None:
        self.messages: list[tuple[str, bool]] = []
        self.deferred: dict[str, Any] | None = None

    async def send_message(self, content: str, *, ephemeral: bool = False, **_: Any) -> None:
        self.messages.append((content, ephemeral))

    async def defer(self, **kwargs: Any) -> None:
        self.deferred = kwargs

    def is_done(self) -> bool:
        return self.deferred is not None or bool(self.messages)


class FakeFollowup:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send(self, content: str | None = None, **kwargs: Any) -> None:
        self.sent.append({"content": content, **kwargs})


def fake_bot(session_factory: SessionFactory | None = None) -> Any:
    return SimpleNamespace(publisher=FakePublisher(), session_factory=session_factory, clock=ManualClock(AFTER_SEASON))


def fake_interaction(bot: Any) -> Any:
    return SimpleNamespace(
        client=bot,
        guild=SimpleNamespace(id=GUILD_ID),
        guild_id=GUILD_ID,
        user=SimpleNamespace(id=MEMBER, roles=[]),
        permissions=discord.Permissions.none(),
        response=FakeResponse(),
        followup=FakeFollowup(),
    )


def finale_context() -> DropContext:
    return DropContext(
        action_id=42,
        kind="wrapup_ready",
        guild_id=GUILD_ID,
        show_id=1,
        show_title="Metallic `Rouge` @everyone",
        platform="Crunchyroll",
        season="Winter 2024",
        episode_id=13,
        episode_number=13,
        episode_count=13,
        episode_title=None,
        air_at=AFTER_SEASON - timedelta(days=10),
        late=False,
        announcement_channel_id=ANNOUNCE_CHANNEL,
        discussion_channel_id=ANNOUNCE_CHANNEL + 1,
        discussion_kind="forum",
        ping_role_id=6001,
        poll_closes_at=AFTER_SEASON - timedelta(days=3),
    )


async def test_the_wrapup_ready_reminder_is_posted_once_to_the_moderators() -> None:
    bot = fake_bot()
    cog = SeasonCog(bot)
    await cog.cog_load()
    handler = bot.publisher.handlers["wrapup_ready"]
    posted = await handler(finale_context())
    assert posted == Posted(ANNOUNCE_CHANNEL, 9001)
    sent = bot.publisher.channel.sent[0]
    assert sent["nonce"] == "wc42"  # a retried post is deduplicated by Discord
    mentions = sent["allowed_mentions"]
    assert not mentions.everyone and not mentions.roles and not mentions.users
    text = sent["content"]
    assert "is complete — moderators can share the wrap-up with `/season wrapup show:" in text
    assert "publish:true`" in text
    assert "@everyone" not in text.split("`")[0]  # neutralised where it is not inside code


def test_wrapup_ready_text_names_the_show_and_the_command() -> None:
    assert wrapup_ready_text(TITLE).startswith(
        "🎬 The season of **Metallic Rouge** is complete — moderators can share the wrap-up with "
        "`/season wrapup show:Metallic Rouge publish:true`"
    )


@SQLITE_ONLY
async def test_publishing_is_refused_to_members_privately(session_factory: SessionFactory) -> None:
    bot = fake_bot(session_factory)
    interaction = fake_interaction(bot)
    await SeasonCog.wrapup.callback(SeasonCog(bot), interaction, TITLE, True)  # type: ignore[arg-type]
    assert interaction.response.messages == [(PUBLISH_REFUSED, True)]
    assert interaction.response.deferred is None
    assert bot.publisher.channel.sent == []


@SQLITE_ONLY
async def test_anyone_sees_the_wrapup_privately_with_chart_and_csv(
    session_factory: SessionFactory, session: AsyncSession
) -> None:
    await seed_season(session, Season(), AFTER_SEASON)
    bot = fake_bot(session_factory)
    interaction = fake_interaction(bot)
    await SeasonCog.wrapup.callback(SeasonCog(bot), interaction, "metallic", False)  # type: ignore[arg-type]
    assert interaction.response.deferred == {"ephemeral": True, "thinking": True}
    reply = interaction.followup.sent[0]
    assert reply["ephemeral"] is True
    assert [f.filename for f in reply["files"]] == ["wrapup.png", "metallic-rouge-wrapup.csv"]
    assert reply["embed"].image.url == "attachment://wrapup.png"
    assert bot.publisher.channel.sent == []


@SQLITE_ONLY
async def test_a_moderator_publishes_to_the_announcement_channel(
    session_factory: SessionFactory, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def moderator(_: Any) -> bool:
        return True

    monkeypatch.setattr(season_cog, "is_moderator", moderator)
    await seed_season(session, Season(), AFTER_SEASON)
    bot = fake_bot(session_factory)
    interaction = fake_interaction(bot)
    await SeasonCog.wrapup.callback(SeasonCog(bot), interaction, TITLE, True)  # type: ignore[arg-type]
    post = bot.publisher.channel.sent[0]
    assert post["embed"].title == "🎬 Metallic Rouge — season wrap-up"
    assert [f.filename for f in post["files"]] == ["wrapup.png", "metallic-rouge-wrapup.csv"]
    assert post["allowed_mentions"].everyone is False
    told = interaction.followup.sent[0]
    assert told["ephemeral"] is True
    assert told["content"].startswith(f"Posted the wrap-up of **Metallic Rouge** in <#{ANNOUNCE_CHANNEL}>")
