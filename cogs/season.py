"""`/season survey` and `/season wrapup`: the club looks back on a season together.

The survey is a modal (pre-filled with the member's earlier answers); the wrap-up is an embed
with the chart as its image and a CSV of the per-episode figures, private to whoever asked, or
posted in the announcement channel by a moderator. After the finale's poll closes, the drop
runner asks this cog to tell the moderators the wrap-up is ready ("wrapup_ready").
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, TypeAlias

import discord
from discord import app_commands
from discord.ext import commands

from bot.autocomplete import show_autocomplete
from bot.checks import is_moderator
from bot.errors import UserError
from bot.publisher import describe_http_error
from bot.render.chart import render_chart_async
from bot.render.chart import renderer as chart_renderer
from bot.render.text import clip, safe
from bot.render.wrapup import CHART_FILE, csv_filename, wrapup_csv, wrapup_embed, wrapup_ready_text
from bot.replies import guild_of, report_error
from bot.services import survey as survey_service
from bot.services import wrapup as wrapup_service
from bot.services.club import require_club
from bot.services.drops import DropContext, Posted, PublishError
from bot.services.survey import (
    CHARACTER_MAX,
    MOMENT_MAX,
    MORE_CHOICES,
    MORE_LABELS,
    VERDICT_MAX,
    SurveyAnswers,
    SurveyForm,
)
from bot.services.wrapup import WrapUp

if TYPE_CHECKING:
    from bot.client import WatchClubBot

Interaction: TypeAlias = "discord.Interaction[WatchClubBot]"

MODAL_TIMEOUT = 30 * 60  # long enough to write a paragraph; a dismissed modal is then forgotten
PUBLISH_REFUSED = (
    "Publishing the wrap-up to the announcement channel is for the club's moderators. "
    "You can still see it yourself: run `/season wrapup` without `publish`."
)


async def wrapup_show_autocomplete(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """The server's shows, and a head start for the chart worker while the member types."""
    chart_renderer.warm()
    return await show_autocomplete(interaction, current)


class SurveyModal(discord.ui.Modal):
    """The wrap-up questions of the source documents, pre-filled with the member's answers."""

    def __init__(self, cog: SeasonCog, answers: SurveyAnswers) -> None:
        super().__init__(title=clip(f"Wrap-up: {answers.show_title}", 45), timeout=MODAL_TIMEOUT)
        self.cog = cog
        self.show_id = answers.show_id
        self.show_title = answers.show_title
        self.character: discord.ui.TextInput[SurveyModal] = discord.ui.TextInput(
            max_length=CHARACTER_MAX, required=False, default=answers.favourite_character
        )
        self.moment: discord.ui.TextInput[SurveyModal] = discord.ui.TextInput(
            style=discord.TextStyle.paragraph, max_length=MOMENT_MAX, required=False, default=answers.favourite_moment
        )
        self.least: discord.ui.TextInput[SurveyModal] = discord.ui.TextInput(
            style=discord.TextStyle.paragraph,
            max_length=MOMENT_MAX,
            required=False,
            default=answers.least_favourite_moment,
        )
        self.more: discord.ui.Select[SurveyModal] = discord.ui.Select(
            options=[
                discord.SelectOption(label=MORE_LABELS[choice], value=choice, default=answers.more == choice)
                for choice in MORE_CHOICES
            ],
            placeholder="Yes, maybe or no",
            min_values=0,
            max_values=1,
            required=False,
        )
        self.verdict: discord.ui.TextInput[SurveyModal] = discord.ui.TextInput(
            max_length=VERDICT_MAX, required=False, default=answers.verdict
        )
        questions: list[tuple[str, str, discord.ui.Item[SurveyModal]]] = [
            ("Who was your favourite character?", "Optional", self.character),
            ("What was your favourite moment?", "Optional · no spoilers for unaired episodes", self.moment),
            ("What was your least favourite moment?", "Optional", self.least),
            ("Would you like some more?", "Another season, a sequel: would you watch it?", self.more),
            ("Your verdict, in one line", "Optional · a few are quoted in the wrap-up", self.verdict),
        ]
        for text, hint, component in questions:
            self.add_item(discord.ui.Label(text=text, description=hint, component=component))

    def form(self) -> SurveyForm:
        return SurveyForm(
            favourite_character=self.character.value,
            favourite_moment=self.moment.value,
            least_favourite_moment=self.least.value,
            more=self.more.values[0] if self.more.values else "",
            verdict=self.verdict.value,
        )

    async def on_submit(self, interaction: Interaction) -> None:  # type: ignore[override]
        guild = guild_of(interaction)
        async with self.cog.bot.session_factory() as session:
            saved = await survey_service.save_answers(
                session, guild.id, self.show_id, interaction.user.id, self.form(), self.cog.bot.clock.now()
            )
        verb = "Saved your answers" if saved.answered else "Cleared your answers"
        await interaction.response.send_message(f"{verb} for **{safe(saved.show_title)}**.", ephemeral=True)

    async def on_error(self, interaction: Interaction, error: Exception) -> None:  # type: ignore[override]
        await report_error(interaction, error)


class SeasonCog(commands.Cog):
    season = app_commands.Group(name="season", description="The season wrap-up and its questions", guild_only=True)

    def __init__(self, bot: WatchClubBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.publisher.register("wrapup_ready", self.wrapup_ready)

    async def cog_unload(self) -> None:
        chart_renderer.close()

    @season.command(name="survey", description="Answer the wrap-up questions for a show (you can edit them later)")
    @app_commands.describe(show="The show to look back on")
    @app_commands.autocomplete(show=show_autocomplete)
    async def survey(self, interaction: Interaction, show: str) -> None:
        async with self.bot.session_factory() as session:
            answers = await survey_service.get_answers(
                session, guild_of(interaction).id, show, interaction.user.id, self.bot.clock.now()
            )
        await interaction.response.send_modal(SurveyModal(self, answers))

    @season.command(
        name="wrapup", description="The season wrap-up: score, chart, best and worst, the club's favourites"
    )
    @app_commands.describe(
        show="The show to wrap up (works mid-season too)",
        publish="Post it in the announcement channel for everyone (moderators)",
    )
    @app_commands.autocomplete(show=wrapup_show_autocomplete)
    async def wrapup(self, interaction: Interaction, show: str, publish: bool = False) -> None:
        guild = guild_of(interaction)
        if publish and not await is_moderator(interaction):
            await interaction.response.send_message(PUBLISH_REFUSED, ephemeral=True)
            return
        # Rendering the chart takes a moment: answer Discord now, privately either way.
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self.bot.session_factory() as session:
            data = await wrapup_service.build_wrapup(session, guild.id, show, self.bot.clock.now())
            channel_id = (await require_club(session, guild.id)).announcement_channel_id if publish else None
        embed, files = await wrapup_message(data)
        if channel_id is None:
            await interaction.followup.send(embed=embed, files=files, ephemeral=True)
            return
        message = await self.post(channel_id, embed, files)
        await interaction.followup.send(
            f"Posted the wrap-up of **{safe(data.title)}** in <#{channel_id}>: {message.jump_url}", ephemeral=True
        )

    async def post(self, channel_id: int, embed: discord.Embed, files: list[discord.File]) -> discord.Message:
        """Post in the announcement channel; what Discord refuses becomes a fix-it message."""
        try:
            channel = await self.bot.publisher.messageable(channel_id)
            message: discord.Message = await channel.send(
                embed=embed, files=files, allowed_mentions=discord.AllowedMentions.none()
            )
        except PublishError as exc:
            raise UserError(f"I couldn't post the wrap-up: {exc.reason}. Check `/club show`.") from exc
        except discord.HTTPException as exc:
            reason = describe_http_error(exc, self.bot.publisher.channel_name(channel_id)).reason
            raise UserError(f"I couldn't post the wrap-up: {reason}. Check `/club show`.") from exc
        return message

    async def wrapup_ready(self, context: DropContext) -> Posted:
        """After the finale's poll closes: tell the moderators the wrap-up is ready to share."""
        channel = await self.bot.publisher.messageable(context.announcement_channel_id)
        message = await channel.send(
            wrapup_ready_text(context.show_title),
            allowed_mentions=discord.AllowedMentions.none(),
            nonce=context.nonce,
        )
        return Posted(channel.id, message.id)


async def wrapup_message(data: WrapUp) -> tuple[discord.Embed, list[discord.File]]:
    """The embed and its attachments: the chart (rendered off the event loop) and the CSV."""
    files = [discord.File(io.BytesIO(wrapup_csv(data)), filename=csv_filename(data))]
    if data.rated:
        png = await render_chart_async(data)
        files.insert(0, discord.File(io.BytesIO(png), filename=CHART_FILE))
    return wrapup_embed(data, with_chart=bool(data.rated)), files


async def setup(bot: WatchClubBot) -> None:
    await bot.add_cog(SeasonCog(bot))
