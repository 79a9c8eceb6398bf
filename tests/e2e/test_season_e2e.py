"""Issue 6 end to end: the survey modal, then the wrap-up with its chart and CSV."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.e2e.conftest import WatchClub
from tests.e2e.fakediscord import InteractionReply, Message
from tests.e2e.test_drops_e2e import DROP, LEAD, WEEK, add_show, setup_club


def modal_inputs(reply: InteractionReply) -> dict[str, dict[str, Any]]:
    """The modal's inputs keyed by their question (Label text)."""
    assert reply.modal is not None, "expected the bot to open a modal"
    found = {}
    for label in reply.modal.components:
        assert label["type"] == 18, label  # discord.ui.Label
        found[label["label"]] = label["component"]
    return found


async def after_e02(watchclub: WatchClub) -> None:
    """A club whose show has aired E01 and E02 (the bot was down for the first drop)."""
    bot = await watchclub.start(clock_start=DROP - LEAD)
    await setup_club(watchclub)
    await add_show(watchclub)
    await bot.kill()
    await watchclub.start(clock_start=DROP + WEEK + timedelta(minutes=2))
    await watchclub.wait_for_rows("SELECT 1 FROM rating_poll WHERE message_id IS NOT NULL")


def attachment(message: Message, suffix: str) -> bytes:
    return next(a.data for a in message.attachments if a.filename.endswith(suffix))


async def test_survey_then_wrapup_with_chart_and_csv(watchclub: WatchClub) -> None:
    s = watchclub.server
    await after_e02(watchclub)
    for member, stars in ((s.bob, 4.0), (s.carol, 2.5)):
        rated = await s.fake.slash(s.guild, member, "rate", show="Metallic Rouge", episode=2, stars=stars)
        assert rated.ephemeral
        assert "E02" in rated.content

    opened = await s.fake.slash(s.guild, s.bob, "season survey", show="Metallic Rouge")
    inputs = modal_inputs(opened)
    assert len(inputs) == 5
    answers = {
        "Who was your favourite character?": "Rouge Redstar",
        "What was your favourite moment?": "The nightclub fight",
        "Would you like some more?": ["yes"],
        "Your verdict, in one line": "Stylish @everyone cyberpunk",
    }
    saved = await s.fake.submit_modal(opened, {inputs[q]["custom_id"]: v for q, v in answers.items()})
    assert saved.ephemeral
    assert "Saved your answers" in saved.content

    again = await s.fake.slash(s.guild, s.bob, "season survey", show="Metallic Rouge")
    prefilled = modal_inputs(again)
    assert prefilled["Who was your favourite character?"]["value"] == "Rouge Redstar"
    assert any(o.get("default") for o in prefilled["Would you like some more?"]["options"] if o["value"] == "yes")

    reply = await s.fake.slash(s.guild, s.carol, "season wrapup", show="Metallic Rouge")
    assert reply.ephemeral
    message = await reply.wait_followup() if reply.deferred else reply.message
    assert message is not None
    embed = message.embeds[0]
    assert "Metallic Rouge" in embed["title"]
    text = str(embed)
    assert "2 of 13" in text  # mid-season
    assert "3.25" in text  # mean of episode averages: only E02 is rated, (4 + 2.5) / 2
    assert "Rouge Redstar" in text
    assert "@everyone" not in text
    assert attachment(message, ".png").startswith(b"\x89PNG\r\n\x1a\n")
    csv_lines = attachment(message, ".csv").decode("utf-8-sig").splitlines()
    assert csv_lines[0].startswith("episode,title,air_date")
    assert csv_lines[2].split(",")[:2] == ["2", ""]
    assert len(csv_lines) == 14


async def test_publish_is_for_moderators(watchclub: WatchClub) -> None:
    s = watchclub.server
    await after_e02(watchclub)
    refused = await s.fake.slash(s.guild, s.bob, "season wrapup", show="Metallic Rouge", publish=True)
    assert refused.ephemeral
    assert "moderators" in refused.content
    assert [m for m in s.announcements.history() if m.embeds] == []

    published = await s.fake.slash(s.guild, s.mod, "season wrapup", show="Metallic Rouge", publish=True)
    done = await published.wait_followup() if published.deferred else published.message
    assert done is not None
    assert f"<#{s.announcements.id}>" in done.content
    posted = await s.fake.wait_for_message(s.announcements, lambda m: bool(m.embeds), timeout=15)
    assert "season wrap-up" in posted.embeds[0]["title"]
    assert "no ratings" in str(posted.embeds[0]).lower()  # nobody rated yet: said, not an empty chart
    assert [a.filename for a in posted.attachments if a.filename.endswith(".png")] == []
