"""The tables, in the club's own words. Instants are UTC (`UTCDateTime`); half stars are 1-10."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bot.db.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), int: Integer(), str: String()}


class Club(Base):
    """One server's club configuration."""

    __tablename__ = "club_config"

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    announcement_channel_id: Mapped[int] = mapped_column(BigInteger)
    discussion_channel_id: Mapped[int] = mapped_column(BigInteger)
    # "forum" or "text": how episode threads are opened.
    discussion_kind: Mapped[str] = mapped_column(String(8))
    ping_role_id: Mapped[int | None] = mapped_column(BigInteger)
    moderator_role_id: Mapped[int | None] = mapped_column(BigInteger)
    timezone: Mapped[str] = mapped_column(String(64))
    # The forum's "Spoilers" tag, once found or created (forum discussion channels only).
    spoiler_tag_id: Mapped[int | None] = mapped_column(BigInteger)
    # A poll with no next episode to close it closes this many days after its drop.
    poll_close_days: Mapped[int] = mapped_column(default=7)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class AppState(Base):
    """Small facts the bot keeps about itself (e.g. the hash of the last synced command set)."""

    __tablename__ = "app_state"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]


class Show(Base):
    """A show the club watches, with its weekly slot (local wall-clock time in an IANA zone)."""

    __tablename__ = "show"
    __table_args__ = (UniqueConstraint("guild_id", "title_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    guild_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("club_config.guild_id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(80))
    # casefolded, whitespace-collapsed title: duplicate titles in one server are refused.
    title_key: Mapped[str] = mapped_column(String(80))
    episode_count: Mapped[int]
    weekday: Mapped[int] = mapped_column(SmallInteger)  # 0 = Monday ... 6 = Sunday
    slot_time: Mapped[time] = mapped_column(Time)
    timezone: Mapped[str] = mapped_column(String(64))
    start_date: Mapped[date] = mapped_column(Date)
    platform: Mapped[str | None] = mapped_column(String(40))
    season: Mapped[str | None] = mapped_column(String(40))
    reminder_minutes: Mapped[int]
    paused_at: Mapped[datetime | None]
    # The earliest instant something is due for this show; NULL when nothing is (finished,
    # paused). Derived from the episodes and actions, kept here so start-up is one query.
    next_due_at: Mapped[datetime | None] = mapped_column(index=True)
    # The show's tag in a forum discussion channel, once found or created.
    forum_tag_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    club: Mapped[Club] = relationship()
    episodes: Mapped[list[Episode]] = relationship(
        back_populates="show", order_by="Episode.number", cascade="all, delete-orphan", passive_deletes=True
    )
    breaks: Mapped[list[BreakWeek]] = relationship(
        order_by="BreakWeek.slot_date", cascade="all, delete-orphan", passive_deletes=True
    )


class Episode(Base):
    __tablename__ = "episode"
    __table_args__ = (UniqueConstraint("show_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    show_id: Mapped[int] = mapped_column(ForeignKey("show.id", ondelete="CASCADE"))
    number: Mapped[int]
    title: Mapped[str | None] = mapped_column(String(200))
    # When it drops (UTC), derived from the slot, break weeks and delays.
    air_at: Mapped[datetime] = mapped_column(index=True)
    # A moderator's one-off move of this episode (`/show delay`), as an instant.
    delayed_to: Mapped[datetime | None]
    # Aired before the club scheduled it (a show added mid-season, or an edit that put it in
    # the past): never announced, no thread or poll opened automatically.
    before_tracking: Mapped[bool] = mapped_column(Boolean, default=False)

    show: Mapped[Show] = relationship(back_populates="episodes")
    actions: Mapped[list[DropAction]] = relationship(
        back_populates="episode", cascade="all, delete-orphan", passive_deletes=True
    )
    poll: Mapped[RatingPoll | None] = relationship(viewonly=True)


class BreakWeek(Base):
    """A week with no episode: the slot on `slot_date` (local date) is skipped."""

    __tablename__ = "break_week"

    show_id: Mapped[int] = mapped_column(ForeignKey("show.id", ondelete="CASCADE"), primary_key=True)
    slot_date: Mapped[date] = mapped_column(Date, primary_key=True)


class DropAction(Base):
    """One scheduled action for one episode (heads-up, announcement, thread, poll...).

    The unique (episode, kind) row is the claim: it is written before Discord is called and
    marked done after, so a crash or a second process never does the work twice.
    """

    __tablename__ = "drop_action"
    __table_args__ = (
        UniqueConstraint("episode_id", "kind"),
        Index("ix_drop_action_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    # claimed | done | retry | failed | missed | skipped
    status: Mapped[str] = mapped_column(String(12))
    due_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    retry_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    channel_id: Mapped[int | None] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    done_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]

    episode: Mapped[Episode] = relationship(back_populates="actions")


class EpisodeThread(Base):
    """An episode's discussion thread (a forum post or a thread in a text channel)."""

    __tablename__ = "episode_thread"

    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id", ondelete="CASCADE"), primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger)
    thread_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    parent_channel_id: Mapped[int] = mapped_column(BigInteger)
    # Messages members posted in it, counted as they arrive (for the wrap-up).
    message_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]


class ThreadMember(Base):
    """A member the bot added to a thread (after `/watched`), so it is not done twice."""

    __tablename__ = "thread_member"

    thread_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    added_at: Mapped[datetime]


class WatchProgress(Base):
    """How far a member has watched a show (`/watched`)."""

    __tablename__ = "watch_progress"

    show_id: Mapped[int] = mapped_column(ForeignKey("show.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    episode_number: Mapped[int]
    updated_at: Mapped[datetime]


class RatingPoll(Base):
    """One episode's half-star poll. Votes change until `closes_at`."""

    __tablename__ = "rating_poll"

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id", ondelete="CASCADE"), unique=True)
    channel_id: Mapped[int | None] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    opened_at: Mapped[datetime]
    closes_at: Mapped[datetime] = mapped_column(index=True)
    closed_at: Mapped[datetime | None]


class Vote(Base):
    """A member's rating in half stars (1 = ½ star ... 10 = 5 stars); one row per member."""

    __tablename__ = "vote"
    __table_args__ = (
        CheckConstraint("half_stars BETWEEN 1 AND 10", name="half_stars_range"),
        # per-episode histograms (the wrap-up, the live poll) read only this index
        Index("ix_vote_poll_id_half_stars", "poll_id", "half_stars"),
    )

    poll_id: Mapped[int] = mapped_column(ForeignKey("rating_poll.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    half_stars: Mapped[int] = mapped_column(SmallInteger)
    updated_at: Mapped[datetime]


class SurveyAnswer(Base):
    """A member's answers to the season wrap-up questions for one show."""

    __tablename__ = "survey_answer"

    show_id: Mapped[int] = mapped_column(ForeignKey("show.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    favourite_character: Mapped[str | None] = mapped_column(String(100))
    favourite_moment: Mapped[str | None] = mapped_column(String(300))
    least_favourite_moment: Mapped[str | None] = mapped_column(String(300))
    more: Mapped[str | None] = mapped_column(String(5))  # yes | maybe | no
    verdict: Mapped[str | None] = mapped_column(String(150))
    updated_at: Mapped[datetime]
