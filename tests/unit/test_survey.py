"""`/season survey`: one editable answer set per member and show, bounded and kept to its server."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import SurveyAnswer
from bot.errors import NotFoundError, UserError
from bot.services import shows, survey
from bot.services.survey import CHARACTER_MAX, MOMENT_MAX, VERDICT_MAX, SurveyAnswers, SurveyForm
from cogs.season import SurveyModal
from tests.support.db import make_club, make_show
from tests.support.seeds import BEFORE_SEASON, E01_AIR, GUILD_ID, OTHER_GUILD_ID, TITLE

AFTER_E01 = E01_AIR + timedelta(hours=2)
MEMBER = 1001

FORM = SurveyForm(
    favourite_character="Ash Stahl",
    favourite_moment="The gritty Mars of the first episodes",
    least_favourite_moment="Ash knows who the Puppeteer is, and it cuts away",
    more="no",
    verdict="Fine. Too many ideas for thirteen episodes.",
)


@pytest.fixture
async def show_id(session: AsyncSession) -> int:
    await make_club(session, BEFORE_SEASON)
    return (await make_show(session, BEFORE_SEASON)).id


async def rows(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(SurveyAnswer)) or 0)


async def test_answers_are_saved_and_open_the_modal_prefilled(session: AsyncSession, show_id: int) -> None:
    before = await survey.get_answers(session, GUILD_ID, "metallic", MEMBER, AFTER_E01)
    assert before.show_title == TITLE and not before.answered and before.favourite_character is None

    saved = await survey.save_answers(session, GUILD_ID, TITLE, MEMBER, FORM, AFTER_E01)
    assert saved.answered

    again = await survey.get_answers(session, GUILD_ID, TITLE, MEMBER, AFTER_E01)
    assert again.show_id == show_id
    assert again.favourite_character == "Ash Stahl"
    assert again.least_favourite_moment == FORM.least_favourite_moment
    assert again.more == "no"
    assert again.verdict == FORM.verdict
    assert again.updated_at == AFTER_E01


async def test_editing_replaces_the_one_answer_set(session: AsyncSession, show_id: int) -> None:
    await survey.save_answers(session, GUILD_ID, TITLE, MEMBER, FORM, AFTER_E01)
    later = AFTER_E01 + timedelta(days=90)
    edited = SurveyForm(favourite_character="Naomi Orthmann", more="maybe")
    await survey.save_answers(session, GUILD_ID, show_id, MEMBER, edited, later)  # by id, as the modal does
    assert await rows(session) == 1
    answers = await survey.get_answers(session, GUILD_ID, TITLE, MEMBER, later)
    assert answers.favourite_character == "Naomi Orthmann"
    assert answers.more == "maybe"
    assert answers.favourite_moment is None  # left empty this time: optional, and cleared
    assert answers.verdict is None
    assert answers.updated_at == later


async def test_each_member_has_their_own_answers(session: AsyncSession, show_id: int) -> None:
    await survey.save_answers(session, GUILD_ID, TITLE, MEMBER, FORM, AFTER_E01)
    await survey.save_answers(session, GUILD_ID, TITLE, MEMBER + 1, SurveyForm(more="yes"), AFTER_E01)
    assert await rows(session) == 2
    mine = await survey.get_answers(session, GUILD_ID, TITLE, MEMBER, AFTER_E01)
    assert mine.more == "no"


async def test_text_is_trimmed_to_one_line_and_stored_as_typed(session: AsyncSession, show_id: int) -> None:
    form = SurveyForm(
        favourite_character="  Rouge \n  Redstar\t",
        favourite_moment="Rouge vs Viola,\r\n\r\nthe whole fight\x00",
        verdict="@everyone it was <@&123456789012345678> fine",
    )
    saved = await survey.save_answers(session, GUILD_ID, TITLE, MEMBER, form, AFTER_E01)
    assert saved.favourite_character == "Rouge Redstar"
    assert saved.favourite_moment == "Rouge vs Viola, the whole fight"
    # Mentions are neutralised where answers are shown (the wrap-up embed), not in storage.
    assert saved.verdict == "@everyone it was <@&123456789012345678> fine"
    stored = await survey.get_answers(session, GUILD_ID, TITLE, MEMBER, AFTER_E01)
    assert stored.favourite_character == "Rouge Redstar"


@pytest.mark.parametrize("choice", ["yes", "Maybe", " NO "])
async def test_more_is_a_choice(session: AsyncSession, show_id: int, choice: str) -> None:
    saved = await survey.save_answers(session, GUILD_ID, TITLE, MEMBER, SurveyForm(more=choice), AFTER_E01)
    assert saved.more == choice.strip().lower()


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (SurveyForm(more="perhaps"), "yes, maybe or no"),
        (SurveyForm(favourite_character="x" * (CHARACTER_MAX + 1)), "favourite character is 101 characters"),
        (SurveyForm(favourite_moment="m" * (MOMENT_MAX + 1)), "limit is 300"),
        (SurveyForm(least_favourite_moment="m" * (MOMENT_MAX + 1)), "least favourite moment"),
        (SurveyForm(verdict="v" * (VERDICT_MAX + 1)), "verdict"),
    ],
)
async def test_bad_answers_are_refused_and_nothing_changes(
    session: AsyncSession, show_id: int, form: SurveyForm, message: str
) -> None:
    await survey.save_answers(session, GUILD_ID, TITLE, MEMBER, FORM, AFTER_E01)
    with pytest.raises(UserError, match=message):
        await survey.save_answers(session, GUILD_ID, TITLE, MEMBER, form, AFTER_E01 + timedelta(days=1))
    await session.rollback()
    kept = await survey.get_answers(session, GUILD_ID, TITLE, MEMBER, AFTER_E01)
    assert kept.favourite_character == "Ash Stahl" and kept.updated_at == AFTER_E01


async def test_answers_at_the_limit_are_kept_whole(session: AsyncSession, show_id: int) -> None:
    form = SurveyForm(favourite_moment="m" * MOMENT_MAX, verdict="v" * VERDICT_MAX)
    saved = await survey.save_answers(session, GUILD_ID, TITLE, MEMBER, form, AFTER_E01)
    assert saved.favourite_moment == "m" * MOMENT_MAX and saved.verdict == "v" * VERDICT_MAX


async def test_sending_everything_empty_withdraws_the_answers(session: AsyncSession, show_id: int) -> None:
    await survey.save_answers(session, GUILD_ID, TITLE, MEMBER, FORM, AFTER_E01)
    cleared = await survey.save_answers(session, GUILD_ID, TITLE, MEMBER, SurveyForm(verdict="   "), AFTER_E01)
    assert not cleared.answered
    assert await rows(session) == 0


async def test_no_answers_before_the_first_episode(session: AsyncSession, show_id: int) -> None:
    with pytest.raises(UserError, match="hasn't started yet"):
        await survey.get_answers(session, GUILD_ID, TITLE, MEMBER, E01_AIR - timedelta(minutes=1))
    with pytest.raises(UserError, match="hasn't started yet"):
        await survey.save_answers(session, GUILD_ID, TITLE, MEMBER, FORM, E01_AIR - timedelta(minutes=1))
    assert await rows(session) == 0


async def test_another_server_cannot_see_or_answer_for_the_show(session: AsyncSession, show_id: int) -> None:
    await make_club(session, BEFORE_SEASON, guild_id=OTHER_GUILD_ID)
    with pytest.raises(NotFoundError):
        await survey.get_answers(session, OTHER_GUILD_ID, TITLE, MEMBER, AFTER_E01)
    with pytest.raises(NotFoundError):
        await survey.save_answers(session, OTHER_GUILD_ID, TITLE, MEMBER, FORM, AFTER_E01)
    with pytest.raises(NotFoundError):  # not even with the show's id from a crafted modal
        await survey.save_answers(session, OTHER_GUILD_ID, show_id, MEMBER, FORM, AFTER_E01)
    assert await rows(session) == 0


async def test_answers_go_with_the_show(session: AsyncSession, show_id: int) -> None:
    await survey.save_answers(session, GUILD_ID, TITLE, MEMBER, FORM, AFTER_E01)
    await shows.remove_show(session, GUILD_ID, show_id)
    assert await rows(session) == 0


def test_the_modal_opens_prefilled_and_asks_more_as_a_choice() -> None:
    answers = SurveyAnswers(
        show_id=7, show_title=TITLE, user_id=MEMBER, favourite_character="Ash Stahl", more="maybe", verdict="Fine."
    )
    modal = SurveyModal(None, answers)  # type: ignore[arg-type]
    payload = modal.to_dict()
    assert payload["title"] == "Wrap-up: Metallic Rouge"
    labels = payload["components"]
    assert [c["type"] for c in labels] == [18] * 5  # five labelled questions, Discord's modal maximum
    assert labels[3]["label"] == "Would you like some more?"
    inputs = [c["component"] for c in labels]
    assert inputs[0]["value"] == "Ash Stahl" and inputs[0]["max_length"] == CHARACTER_MAX
    assert "value" not in inputs[1] or inputs[1]["value"] is None  # not answered yet: empty
    assert inputs[4]["value"] == "Fine." and inputs[4]["max_length"] == VERDICT_MAX
    assert not any(i.get("required") for i in inputs)  # every question is optional
    select = inputs[3]
    assert [o["value"] for o in select["options"]] == ["yes", "maybe", "no"]
    assert [o["value"] for o in select["options"] if o.get("default")] == ["maybe"]
    assert (select["min_values"], select["max_values"]) == (0, 1)


def test_a_submitted_modal_becomes_the_form_the_service_checks() -> None:
    modal = SurveyModal(None, SurveyAnswers(show_id=7, show_title=TITLE, user_id=MEMBER))  # type: ignore[arg-type]
    inputs = [c["component"] for c in modal.to_dict()["components"]]
    typed = ["Rouge Redstar", "Rouge vs Viola", "", None, "Peaked too soon."]
    submitted = [
        {"type": 18, "component": {"type": 3, "custom_id": i["custom_id"], "values": ["yes"]}}
        if value is None
        else {"type": 18, "component": {"type": 4, "custom_id": i["custom_id"], "value": value}}
        for i, value in zip(inputs, typed, strict=True)
    ]
    modal._refresh(SimpleNamespace(), submitted, {})  # type: ignore[arg-type]
    assert modal.form() == SurveyForm("Rouge Redstar", "Rouge vs Viola", "", "yes", "Peaked too soon.")
