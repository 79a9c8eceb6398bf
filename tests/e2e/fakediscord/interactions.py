"""Interactions the fake sent, and the bot's answers: callbacks, follow-ups, edits.

Bookkeeping per interaction: when INTERACTION_CREATE left the fake, when the first
callback arrived (latency), whether the 3 s deadline was missed, every callback
attempt (accepted or rejected), the original response message and follow-ups.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

from . import errors as err
from . import payloads
from .errors import FormErrors
from .messages import assign_component_ids, create_message, edit_message
from .models import EPHEMERAL, LOADING, Attachment, Member, Message, UploadedFile, iter_components
from .waiting import ChangeNotifier, WaitTimeout

if TYPE_CHECKING:
    from .gateway import Gateway
    from .state import Channel, Guild, World

PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5
PONG, MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE, AUTOCOMPLETE_RESULT, MODAL = 1, 4, 5, 6, 7, 8, 9
TOKEN_LIFETIME = 15 * 60
REJECTION_GRACE = 0.5
_ALLOWED_CALLBACKS = {
    APPLICATION_COMMAND: {MESSAGE, DEFERRED_MESSAGE, MODAL},
    MESSAGE_COMPONENT: {MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE, MODAL},
    AUTOCOMPLETE: {AUTOCOMPLETE_RESULT},
    MODAL_SUBMIT: {MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE},
}


class InteractionFailed(AssertionError):
    """The bot's answer to an interaction was rejected, late, or missing."""


@dataclasses.dataclass(eq=False)
class CallbackAttempt:
    """One POST to /interactions/{id}/{token}/callback (accepted or not)."""

    type: int
    data: dict[str, Any]
    files: list[UploadedFile]
    received_at: float
    latency: float | None
    status: int = 200
    error: dict[str, Any] | None = None

    @property
    def accepted(self) -> bool:
        return self.status < 300


class InteractionRecord:
    def __init__(
        self,
        *,
        interaction_id: int,
        token: str,
        type: int,
        payload: dict[str, Any],
        guild: Guild,
        channel: Channel,
        member: Member,
        label: str,
        deadline: float,
        source_message: Message | None = None,
    ) -> None:
        self.id = interaction_id
        self.token = token
        self.type = type
        self.payload = payload
        self.guild = guild
        self.channel = channel
        self.member = member
        self.label = label
        self.deadline = deadline
        self.source_message = source_message
        self.dispatched_at: float | None = None
        self.attempts: list[CallbackAttempt] = []
        self.initial: CallbackAttempt | None = None
        self.deadline_missed = False
        self.late_latency: float | None = None
        self.original: Message | None = None
        self.followups: list[Message] = []
        self.modal: dict[str, Any] | None = None
        self.choices: list[dict[str, Any]] | None = None

    def __repr__(self) -> str:
        state = "answered" if self.initial else ("late" if self.deadline_missed else "pending")
        return f"<Interaction {self.label} id={self.id} {state} latency={self.latency}>"

    @property
    def latency(self) -> float | None:
        """Seconds from INTERACTION_CREATE sent to the first accepted callback received."""
        return self.initial.latency if self.initial else None

    @property
    def acknowledged(self) -> bool:
        return self.initial is not None

    @property
    def rejected_attempts(self) -> list[CallbackAttempt]:
        return [a for a in self.attempts if not a.accepted]

    def original_target(self) -> Message | None:
        """What ``@original`` designates: the response message, or the component's message."""
        if self.original is not None:
            return self.original
        if self.initial is not None and self.initial.type in (DEFERRED_UPDATE, UPDATE_MESSAGE):
            return self.source_message
        return None

    def describe(self) -> str:
        lines = [repr(self)]
        for attempt in self.attempts:
            lines.append(f"  callback type={attempt.type} status={attempt.status} error={attempt.error}")
        return "\n".join(lines)


class InteractionManager:
    """Server-side handling of callbacks and webhook follow-ups, plus the records."""

    def __init__(self, world: World, gateway: Gateway, notifier: ChangeNotifier, *, deadline: float) -> None:
        self.world = world
        self.gateway = gateway
        self.notifier = notifier
        self.deadline = deadline
        self.records: dict[int, InteractionRecord] = {}
        self._by_token: dict[str, InteractionRecord] = {}

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    # -- dispatch ---------------------------------------------------------------------------
    def dispatch(self, record: InteractionRecord) -> None:
        self.records[record.id] = record
        self._by_token[record.token] = record

        def sent() -> None:
            record.dispatched_at = self._now()

        if not self.gateway.dispatch_interaction(record.payload, record.guild.id, sent):
            raise InteractionFailed(
                self.notifier.describe_timeout(f"cannot send {record.label}: no bot is connected to the fake gateway")
            )

    # -- callback ---------------------------------------------------------------------------
    def handle_callback(
        self, interaction_id: int, token: str, body: dict[str, Any], files: list[UploadedFile]
    ) -> dict[str, Any]:
        record = self.records.get(interaction_id)
        if record is None or record.token != token:
            raise err.unknown_interaction()
        now = self._now()
        sent_at = record.dispatched_at if record.dispatched_at is not None else now
        attempt = CallbackAttempt(int(body.get("type", 0)), body.get("data") or {}, files, now, now - sent_at)
        record.attempts.append(attempt)
        try:
            result = self._accept_callback(record, attempt)
        except err.DiscordAPIError as exc:
            attempt.status, attempt.error = exc.status, exc.body()
            raise
        finally:
            self.notifier.notify()
        return result

    def _accept_callback(self, record: InteractionRecord, attempt: CallbackAttempt) -> dict[str, Any]:
        if record.initial is not None:
            raise err.already_acknowledged()
        if attempt.latency is not None and attempt.latency > record.deadline:
            record.deadline_missed = True
            record.late_latency = attempt.latency
            raise err.unknown_interaction()
        if attempt.type not in _ALLOWED_CALLBACKS.get(record.type, set()):
            raise err.form_error(["type"], "INTERACTION_RESPONSE_TYPE_INVALID", "Invalid interaction response type")
        if attempt.type in (DEFERRED_UPDATE, UPDATE_MESSAGE) and record.source_message is None:
            raise err.form_error(["type"], "INTERACTION_RESPONSE_TYPE_INVALID", "Invalid interaction response type")
        handler = {
            MESSAGE: self._respond_message,
            DEFERRED_MESSAGE: self._respond_deferred,
            DEFERRED_UPDATE: self._respond_deferred_update,
            UPDATE_MESSAGE: self._respond_update,
            AUTOCOMPLETE_RESULT: self._respond_autocomplete,
            MODAL: self._respond_modal,
        }[attempt.type]
        message = handler(record, attempt)
        record.initial = attempt
        return self._callback_response(record, attempt, message)

    def _callback_response(
        self, record: InteractionRecord, attempt: CallbackAttempt, message: Message | None
    ) -> dict[str, Any]:
        interaction: dict[str, Any] = {"id": str(record.id), "type": record.type}
        resource: dict[str, Any] | None = None
        if message is not None:
            interaction["response_message_id"] = str(message.id)
            interaction["response_message_loading"] = message.loading
            interaction["response_message_ephemeral"] = message.ephemeral
        if attempt.type in (MESSAGE, UPDATE_MESSAGE) and message is not None:
            resource = {"type": attempt.type, "message": payloads.message(message, self.world)}
        elif attempt.type in (DEFERRED_MESSAGE, DEFERRED_UPDATE):
            resource = {"type": attempt.type}
        return {"interaction": interaction} | ({"resource": resource} if resource else {})

    def _message_type(self, record: InteractionRecord) -> int:
        if record.type == APPLICATION_COMMAND:
            return 20 if record.payload["data"].get("type", 1) == 1 else 23
        return 0

    def _metadata(self, record: InteractionRecord, **extra: Any) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(record.id),
            "type": record.type,
            "user": payloads.user(record.member.user),
            "authorizing_integration_owners": {"0": str(record.guild.id)},
        }
        if record.type == APPLICATION_COMMAND:
            data["name"] = record.payload["data"]["name"]
            data["command_type"] = record.payload["data"].get("type", 1)
        if record.source_message is not None:
            data["interacted_message_id"] = str(record.source_message.id)
        return data | extra

    def _new_message(
        self, record: InteractionRecord, body: dict[str, Any], files: list[UploadedFile], extra_flags: int = 0
    ) -> Message:
        app_id = self.world.application.id
        return create_message(
            self.world,
            record.channel,
            self.world.bot_user,
            body,
            files,
            author_perms=None,
            extra_flags=extra_flags,
            message_type=self._message_type(record),
            webhook_id=app_id,
            application_id=app_id,
            interaction_metadata=self._metadata(record),
        )

    def _respond_message(self, record: InteractionRecord, attempt: CallbackAttempt) -> Message:
        message = self._new_message(record, attempt.data, attempt.files)
        record.original = message
        self._publish(record.channel, message)
        return message

    def _respond_deferred(self, record: InteractionRecord, attempt: CallbackAttempt) -> Message:
        ephemeral = int(attempt.data.get("flags") or 0) & EPHEMERAL
        message = Message(
            id=self.world.ids.next(),
            channel_id=record.channel.id,
            guild_id=record.guild.id,
            author=self.world.bot_user,
            flags=LOADING | ephemeral,
            type=self._message_type(record),
            webhook_id=self.world.application.id,
            application_id=self.world.application.id,
            interaction_metadata=self._metadata(record),
        )
        record.original = message
        self._publish(record.channel, message)
        return message

    def _respond_deferred_update(self, record: InteractionRecord, attempt: CallbackAttempt) -> None:
        return None

    def _respond_update(self, record: InteractionRecord, attempt: CallbackAttempt) -> Message:
        target = record.source_message
        assert target is not None
        edit_message(self.world, target, attempt.data, attempt.files, author_perms=None)
        self._publish_update(target)
        return target

    def _respond_autocomplete(self, record: InteractionRecord, attempt: CallbackAttempt) -> None:
        choices = attempt.data.get("choices") or []
        errors = FormErrors()
        if len(choices) > 25:
            errors.max_length(["data", "choices"], 25)
        for index, choice in enumerate(choices):
            if not 1 <= len(str(choice.get("name", ""))) <= 100:
                errors.bad_length(["data", "choices", index, "name"], 1, 100)
            value = choice.get("value")
            if isinstance(value, str) and len(value) > 100:
                errors.max_length(["data", "choices", index, "value"], 100)
        errors.raise_if_any()
        record.choices = choices
        return None

    def _respond_modal(self, record: InteractionRecord, attempt: CallbackAttempt) -> None:
        data = attempt.data
        errors = FormErrors()
        if not 1 <= len(data.get("title") or "") <= 45:
            errors.bad_length(["data", "title"], 1, 45)
        if not data.get("custom_id"):
            errors.required(["data", "custom_id"])
        if not 1 <= len(data.get("components") or []) <= 5:
            errors.bad_length(["data", "components"], 1, 5)
        errors.raise_if_any()
        record.modal = data | {"components": assign_component_ids(data.get("components"))}
        return None

    # -- publishing -----------------------------------------------------------------------------
    def _publish(self, channel: Channel, message: Message) -> None:
        self.world.store_message(message, channel)
        if channel.is_thread() and not message.ephemeral:
            channel.count_message()  # type: ignore[attr-defined]
        if not message.ephemeral:
            self.world.emit("MESSAGE_CREATE", payloads.message(message, self.world, with_member=True), channel.guild.id)
        self.notifier.notify()

    def _publish_update(self, message: Message) -> None:
        if not message.ephemeral and message.guild_id is not None:
            self.world.emit("MESSAGE_UPDATE", payloads.message(message, self.world, with_member=True), message.guild_id)
        self.notifier.notify()

    # -- webhooks (follow-ups and @original) ------------------------------------------------------
    def _webhook_record(self, application_id: int, token: str) -> InteractionRecord:
        record = self._by_token.get(token)
        if record is None or application_id != self.world.application.id or record.initial is None:
            raise err.unknown_webhook()
        if record.dispatched_at is not None and self._now() - record.dispatched_at > TOKEN_LIFETIME:
            raise err.DiscordAPIError(401, 50027, "Invalid Webhook Token")
        if record.channel.deleted:
            raise err.unknown_channel()
        return record

    def followup(self, application_id: int, token: str, body: dict[str, Any], files: list[UploadedFile]) -> Message:
        record = self._webhook_record(application_id, token)
        original = record.original
        if original is not None and original.loading and record.initial and record.initial.type == DEFERRED_MESSAGE:
            # The first follow-up after a "thinking" defer fills the deferred message.
            edit_message(self.world, original, body, files, author_perms=None)
            original.flags &= ~LOADING
            original.edited_timestamp = None
            record.followups.append(original)
            self._publish_update(original)
            return original
        message = self._new_message(record, body, files)
        if record.original is not None:
            message.interaction_metadata = self._metadata(record, original_response_message_id=str(record.original.id))
        record.followups.append(message)
        self._publish(record.channel, message)
        return message

    def webhook_message(self, application_id: int, token: str, message_id: str) -> tuple[InteractionRecord, Message]:
        record = self._webhook_record(application_id, token)
        if message_id == "@original":
            target = record.original_target()
        else:
            target = next((m for m in [record.original, *record.followups] if m and str(m.id) == message_id), None)
            if target is None and record.source_message is not None and str(record.source_message.id) == message_id:
                target = record.source_message
        if target is None or target.deleted:
            raise err.unknown_message()
        return record, target

    def edit_webhook_message(
        self, application_id: int, token: str, message_id: str, body: dict[str, Any], files: list[UploadedFile]
    ) -> Message:
        _, message = self.webhook_message(application_id, token, message_id)
        was_loading = message.loading
        edit_message(self.world, message, body, files, author_perms=None)
        if was_loading:
            message.flags &= ~LOADING
            message.edited_timestamp = None
        self._publish_update(message)
        return message

    def delete_webhook_message(self, application_id: int, token: str, message_id: str) -> None:
        _, message = self.webhook_message(application_id, token, message_id)
        message.deleted = True
        if not message.ephemeral and message.guild_id is not None:
            data = {"id": str(message.id), "channel_id": str(message.channel_id), "guild_id": str(message.guild_id)}
            self.world.emit("MESSAGE_DELETE", data, message.guild_id)
        self.notifier.notify()


class Modal:
    """A modal the bot opened (type 9 callback)."""

    def __init__(self, record: InteractionRecord) -> None:
        assert record.modal is not None
        self.record = record
        self.custom_id: str = record.modal["custom_id"]
        self.title: str = record.modal["title"]
        self.components: list[dict[str, Any]] = record.modal["components"]

    def inputs(self) -> dict[str, dict[str, Any]]:
        """Input components (text inputs, selects...) by custom_id."""
        return {c["custom_id"]: c for c in iter_components(self.components) if "custom_id" in c}

    def __repr__(self) -> str:
        return f"<Modal {self.custom_id!r} {self.title!r} inputs={list(self.inputs())}>"


class InteractionReply:
    """The first accepted answer to an interaction, with helpers to inspect it."""

    def __init__(self, record: InteractionRecord, notifier: ChangeNotifier) -> None:
        assert record.initial is not None
        self.record = record
        self._notifier = notifier
        self.callback = record.initial

    def __repr__(self) -> str:
        return f"<InteractionReply type={self.type} ephemeral={self.ephemeral} content={self.content!r}>"

    @property
    def type(self) -> int:
        return self.callback.type

    @property
    def deferred(self) -> bool:
        return self.type in (DEFERRED_MESSAGE, DEFERRED_UPDATE)

    @property
    def message(self) -> Message | None:
        """The response message (type 4/5) or the updated component message (type 7)."""
        if self.type in (MESSAGE, DEFERRED_MESSAGE):
            return self.record.original
        if self.type == UPDATE_MESSAGE:
            return self.record.source_message
        return None

    @property
    def flags(self) -> int:
        if self.message is not None:
            return self.message.flags
        return int(self.callback.data.get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def data(self) -> dict[str, Any]:
        """The ``data`` of the callback exactly as the bot sent it."""
        return self.callback.data

    @property
    def content(self) -> str:
        return self.message.content if self.message is not None else self.callback.data.get("content") or ""

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return self.message.embeds if self.message is not None else []

    @property
    def components(self) -> list[dict[str, Any]]:
        return self.message.components if self.message is not None else []

    @property
    def files(self) -> list[Attachment]:
        return self.message.attachments if self.message is not None else []

    @property
    def allowed_mentions(self) -> dict[str, Any] | None:
        return self.callback.data.get("allowed_mentions")

    @property
    def latency(self) -> float | None:
        return self.callback.latency

    @property
    def choices(self) -> list[dict[str, Any]]:
        return list(self.record.choices or [])

    @property
    def choice_names(self) -> list[str]:
        return [c["name"] for c in self.choices]

    @property
    def modal(self) -> Modal:
        if self.record.modal is None:
            raise InteractionFailed(f"the bot answered type {self.type}, not a modal: {self.record.describe()}")
        return Modal(self.record)

    @property
    def followups(self) -> list[Message]:
        return list(self.record.followups)

    async def wait_followup(self, index: int = 0, timeout: float = 5.0) -> Message:
        """The ``index``-th follow-up (after a defer, the first one fills the deferred message)."""
        return await self._notifier.wait_for(
            lambda: self.record.followups[index] if len(self.record.followups) > index else None,
            timeout,
            f"follow-up #{index} to {self.record.label}",
        )

    async def wait_message(
        self, predicate: Callable[[Message], bool] = lambda m: not m.loading, timeout: float = 5.0
    ) -> Message:
        """Wait until the original response message satisfies ``predicate`` (default: not loading)."""

        def check() -> Message | None:
            target = self.record.original_target()
            return target if target is not None and predicate(target) else None

        return await self._notifier.wait_for(check, timeout, f"the response to {self.record.label} to change")


class PendingInteraction:
    """An INTERACTION_CREATE that was sent; ``await`` it for the bot's first answer."""

    def __init__(self, record: InteractionRecord, notifier: ChangeNotifier, timeout: float) -> None:
        self.record = record
        self._notifier = notifier
        self._timeout = timeout

    def __await__(self) -> Generator[Any, None, InteractionReply]:
        return self.response().__await__()

    async def response(self, timeout: float | None = None) -> InteractionReply:
        """Wait for the first accepted callback; fail loudly if it was rejected or late.

        After a rejected callback (e.g. 400 for a too-long message) the bot gets
        ``REJECTION_GRACE`` seconds to answer correctly (as an error handler would) before failing.
        """
        timeout = self._timeout if timeout is None else timeout
        record = self.record
        loop = asyncio.get_running_loop()

        def settled() -> bool:
            if record.initial is not None or record.deadline_missed:
                return True
            rejected = record.rejected_attempts
            return bool(rejected) and loop.time() - rejected[-1].received_at >= REJECTION_GRACE

        try:
            await self._notifier.wait_for(settled, timeout, f"the bot to answer {record.label}", poll_interval=0.05)
        except WaitTimeout as exc:
            raise InteractionFailed(f"{exc}\n{record.describe()}") from None
        if record.initial is None:
            raise InteractionFailed(
                self._notifier.describe_timeout(f"the bot's answer was refused:\n{record.describe()}")
            )
        return InteractionReply(record, self._notifier)

    async def settled(self, timeout: float | None = None) -> InteractionRecord:
        """Wait for any callback attempt (accepted, rejected or late) and return the record."""
        await self._notifier.wait_for(
            lambda: bool(self.record.attempts),
            self._timeout if timeout is None else timeout,
            f"any answer to {self.record.label}",
        )
        return self.record
