"""`/show ...` and `/schedule`: shows, their weekly slots and the coming drops.

`/show` mixes member and moderator subcommands, and Discord's default permissions apply to
a whole group, so the moderator subcommands rely on the server-side check alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

import discord
from discord import app_commands
from discord.ext import commands

from bot.autocomplete import show_autocomplete, timezone_autocomplete
from bot.checks import moderator_only
from bot.errors import UserError
from bot.render.shows import info_embed, list_embed, schedule_embed
from bot.render.text import episode_label, safe, when
from bot.replies import ReportingView, guild_of
from bot.services import shows as show_service
from bot.services.polls import season_scores
from bot.services.shows import EPISODES_MAX, REMINDER_MAX, ShowForm, ShowInfo
from bot.services.slots import WEEKDAYS

if TYPE_CHECKING:
    from bot.client import WatchClubBot

Interaction: TypeAlias = "discord.Interaction[WatchClubBot]"

WEEKDAY_CHOICES = [app_commands.Choice(name=day, value=day) for day in WEEKDAYS]
EPISODES = app_commands.Range[int, 1, EPISODES_MAX]
REMINDER = app_commands.Range[int, 0, REMINDER_MAX]
EPISODE = app_commands.Range[int, 1, EPISODES_MAX]

SHOW_OPTIONS = {
    "title": "The show's title (up to 80 characters)",
    "episodes": "How many episodes (1-500)",
    "weekday": "The weekday episodes drop",
    "time": "Drop time, 24-hour HH:MM, in the show's timezone",
    "timezone": "IANA timezone of the slot (default: the club's)",
    "start": "Date of episode 1, YYYY-MM-DD (default: the next slot)",
    "platform": "Where to watch, e.g. Crunchyroll (- to clear)",
    "season": "Season label, e.g. Winter 2024 (- to clear)",
    "reminder": "Heads-up this many minutes before each drop (default 60, 0 = none)",
}


def next_drop_line(show: ShowInfo) -> str:
    upcoming = show.next_episode
    if show.paused:
        return "It's paused: `/show resume` starts the drops again."
    if upcoming is None:
        return "Every episode has aired."
    return f"Next: {episode_label(upcoming.number)} drops {when(upcoming.air_at)}."


class ConfirmRemove(ReportingView):
    """Ephemeral yes/no for `/show remove`; only the moderator who asked sees it."""

    def __init__(self, cog: ShowsCog, show: ShowInfo) -> None:
        super().__init__(timeout=120)
        self.cog = cog
        self.show = show

    @discord.ui.button(label="Remove it", style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: Interaction, _: discord.ui.Button[ConfirmRemove]) -> None:
        guild = guild_of(interaction)
        async with self.cog.bot.session_factory() as session:
            title = await show_service.remove_show(session, guild.id, self.show.id)
        self.cog.bot.schedule_show(self.show.id, None)
        self.stop()
        await interaction.response.edit_message(
            content=f"Removed **{safe(title)}** and its schedule.", embed=None, view=None
        )

    @discord.ui.button(label="Keep it", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: Interaction, _: discord.ui.Button[ConfirmRemove]) -> None:
        self.stop()
        await interaction.response.edit_message(
            content=f"Kept **{safe(self.show.title)}**; nothing changed.", embed=None, view=None
        )


class ShowsCog(commands.Cog):
    show = app_commands.Group(name="show", description="The club's shows and their weekly drops", guild_only=True)

    def __init__(self, bot: WatchClubBot) -> None:
        self.bot = bot

    async def _changed(self, interaction: Interaction, info: ShowInfo, text: str, **extra: Any) -> None:
        """After a schedule change: the runner looks at the show now; the moderator hears what
        changed and when the next drop is."""
        self.bot.show_changed(info.id)
        await interaction.response.send_message(f"{text} {next_drop_line(info)}", ephemeral=True, **extra)

    # --- moderators -------------------------------------------------------------------------

    @show.command(name="add", description="Add a show with its weekly drop slot (moderators)")
    @app_commands.describe(**SHOW_OPTIONS)
    @app_commands.choices(weekday=WEEKDAY_CHOICES)
    @app_commands.autocomplete(timezone=timezone_autocomplete)
    @moderator_only()
    async def add(
        self,
        interaction: Interaction,
        title: str,
        episodes: EPISODES,
        weekday: str,
        time: str,
        timezone: str | None = None,
        start: str | None = None,
        platform: str | None = None,
        season: str | None = None,
        reminder: REMINDER | None = None,
    ) -> None:
        form = ShowForm(title, episodes, weekday, time, timezone, start, platform, season, reminder)
        async with self.bot.session_factory() as session:
            info = await show_service.add_show(session, guild_of(interaction).id, form, self.bot.clock.now())
        await self._changed(
            interaction,
            info,
            f"Added **{safe(info.title)}**: {info.episode_count} episodes, {info.slot.describe()}.",
            embed=info_embed(info),
        )

    @show.command(name="edit", description="Change a show's details or slot (moderators)")
    @app_commands.describe(show="The show to change", **SHOW_OPTIONS)
    @app_commands.choices(weekday=WEEKDAY_CHOICES)
    @app_commands.autocomplete(show=show_autocomplete, timezone=timezone_autocomplete)
    @moderator_only()
    async def edit(
        self,
        interaction: Interaction,
        show: str,
        title: str | None = None,
        episodes: EPISODES | None = None,
        weekday: str | None = None,
        time: str | None = None,
        timezone: str | None = None,
        start: str | None = None,
        platform: str | None = None,
        season: str | None = None,
        reminder: REMINDER | None = None,
    ) -> None:
        form = ShowForm(title, episodes, weekday, time, timezone, start, platform, season, reminder)
        if form == ShowForm():
            await interaction.response.send_message(
                "Nothing to change: give at least one option, e.g. `time:` or `episodes:`.", ephemeral=True
            )
            return
        async with self.bot.session_factory() as session:
            info = await show_service.edit_show(session, guild_of(interaction).id, show, form, self.bot.clock.now())
        await self._changed(interaction, info, f"Updated **{safe(info.title)}**.", embed=info_embed(info))

    @show.command(name="remove", description="Remove a show and its schedule (moderators; asks to confirm)")
    @app_commands.describe(show="The show to remove")
    @app_commands.autocomplete(show=show_autocomplete)
    @moderator_only()
    async def remove(self, interaction: Interaction, show: str) -> None:
        async with self.bot.session_factory() as session:
            info = await show_service.get_show(session, guild_of(interaction).id, show, self.bot.clock.now())
        await interaction.response.send_message(
            f"Remove **{safe(info.title)}**, its schedule and its history ({info.aired_count} aired episodes)? "
            "This can't be undone.",
            view=ConfirmRemove(self, info),
            ephemeral=True,
        )

    @show.command(name="skip", description="Mark a break week: no episode that week, later ones shift (moderators)")
    @app_commands.describe(
        show="The show taking a break",
        date="Any date in the break week, YYYY-MM-DD",
        undo="Remove the break week instead",
    )
    @app_commands.autocomplete(show=show_autocomplete)
    @moderator_only()
    async def skip(self, interaction: Interaction, show: str, date: str, undo: bool = False) -> None:
        async with self.bot.session_factory() as session:
            info, slot_date = await show_service.skip_week(
                session, guild_of(interaction).id, show, date, self.bot.clock.now(), undo=undo
            )
        verb = "is no longer a break week" if undo else "is now a break week; later episodes move back a week"
        await self._changed(interaction, info, f"**{safe(info.title)}**: the slot on {slot_date.isoformat()} {verb}.")

    @show.command(name="delay", description="Move one episode to another date and time (moderators)")
    @app_commands.describe(
        show="The show",
        episode="The episode number",
        to="New date and time in the show's timezone: YYYY-MM-DD HH:MM",
    )
    @app_commands.autocomplete(show=show_autocomplete)
    @moderator_only()
    async def delay(self, interaction: Interaction, show: str, episode: EPISODE, to: str) -> None:
        async with self.bot.session_factory() as session:
            info = await show_service.delay_episode(
                session, guild_of(interaction).id, show, episode, to, self.bot.clock.now()
            )
        moved = info.episode(episode)
        await self._changed(
            interaction, info, f"**{safe(info.title)} {episode_label(episode)}** now drops {when(moved.air_at)}."
        )

    @show.command(name="title", description="Set an episode's title (moderators)")
    @app_commands.describe(show="The show", episode="The episode number", title="The episode's title (- to clear)")
    @app_commands.autocomplete(show=show_autocomplete)
    @moderator_only()
    async def title(self, interaction: Interaction, show: str, episode: EPISODE, title: str) -> None:
        async with self.bot.session_factory() as session:
            info = await show_service.set_episode_title(
                session, guild_of(interaction).id, show, episode, title, self.bot.clock.now()
            )
        named = info.episode(episode).title
        text = f"*{safe(named)}*" if named else "no title"
        await interaction.response.send_message(
            f"**{safe(info.title)} {episode_label(episode)}** is now {text}.", ephemeral=True
        )

    @show.command(name="pause", description="Stop a show's drops until resumed (moderators)")
    @app_commands.describe(show="The show to pause")
    @app_commands.autocomplete(show=show_autocomplete)
    @moderator_only()
    async def pause(self, interaction: Interaction, show: str) -> None:
        async with self.bot.session_factory() as session:
            info = await show_service.pause_show(session, guild_of(interaction).id, show, self.bot.clock.now())
        self.bot.schedule_show(info.id, None)
        await interaction.response.send_message(
            f"Paused **{safe(info.title)}**: no reminders or announcements until `/show resume`.", ephemeral=True
        )

    @show.command(name="resume", description="Restart a paused show's drops from the next slot (moderators)")
    @app_commands.describe(show="The show to resume")
    @app_commands.autocomplete(show=show_autocomplete)
    @moderator_only()
    async def resume(self, interaction: Interaction, show: str) -> None:
        async with self.bot.session_factory() as session:
            info = await show_service.resume_show(session, guild_of(interaction).id, show, self.bot.clock.now())
        await self._changed(interaction, info, f"Resumed **{safe(info.title)}**.")

    @show.command(name="thread", description="(Re)open an episode's discussion thread and relink it (moderators)")
    @app_commands.describe(show="The show", episode="The episode whose thread to open")
    @app_commands.autocomplete(show=show_autocomplete)
    @moderator_only()
    async def thread(self, interaction: Interaction, show: str, episode: EPISODE) -> None:
        discussions = self.bot.get_cog("DiscussionsCog")
        if discussions is None:  # pragma: no cover - every cog loads at start
            raise UserError("Discussion threads are not available right now; try again in a minute.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        text = await discussions.reopen_thread(interaction, show, episode)  # type: ignore[attr-defined]
        await interaction.followup.send(text, ephemeral=True)

    # --- everyone ---------------------------------------------------------------------------

    @show.command(name="list", description="Every show, its next drop and how far it is")
    async def list_(self, interaction: Interaction) -> None:
        guild = guild_of(interaction)
        async with self.bot.session_factory() as session:
            infos = await show_service.list_shows(session, guild.id, self.bot.clock.now())
            scores = await season_scores(session, guild.id)
        await interaction.response.send_message(embed=list_embed(infos, scores), ephemeral=True)

    @show.command(name="info", description="A show's card: slot, platform, episodes and air times")
    @app_commands.describe(show="The show")
    @app_commands.autocomplete(show=show_autocomplete)
    async def info(self, interaction: Interaction, show: str) -> None:
        guild = guild_of(interaction)
        async with self.bot.session_factory() as session:
            info = await show_service.get_show(session, guild.id, show, self.bot.clock.now())
            score = (await season_scores(session, guild.id)).get(info.id)
        await interaction.response.send_message(embed=info_embed(info, score), ephemeral=True)

    @app_commands.command(name="schedule", description="The club's drops in the next seven days")
    @app_commands.guild_only()
    async def schedule(self, interaction: Interaction) -> None:
        now = self.bot.clock.now()
        async with self.bot.session_factory() as session:
            drops = await show_service.coming_drops(session, guild_of(interaction).id, now)
        await interaction.response.send_message(embed=schedule_embed(drops, now), ephemeral=True)


async def setup(bot: WatchClubBot) -> None:
    await bot.add_cog(ShowsCog(bot))
