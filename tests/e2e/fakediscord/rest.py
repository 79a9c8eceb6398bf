"""The REST side: aiohttp app, request recording, auth, faults, rate-limit headers."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.web_request import FileField

from . import errors as err
from .errors import DiscordAPIError
from .faults import FaultInjector
from .models import UploadedFile
from .recorder import RecordedRequest, RequestLog
from .waiting import ChangeNotifier

API_PREFIX = "/api/v10"
NO_CONTENT = object()
RECORD_KEY = web.RequestKey("fakediscord_record", RecordedRequest)
RESULT_KEY = web.RequestKey("fakediscord_result", object)
_UNAUTHENTICATED_PREFIXES = ("/interactions/", "/webhooks/")
_MAJOR_PARAMS = ("channel_id", "guild_id", "webhook_id", "webhook_token", "interaction_id")


@dataclasses.dataclass
class ApiRequest:
    """What a route handler receives: parsed body, files, path params, the log entry."""

    request: web.Request
    record: RecordedRequest

    @property
    def body(self) -> dict[str, Any]:
        return self.record.json if isinstance(self.record.json, dict) else {}

    @property
    def json(self) -> Any:
        return self.record.json

    @property
    def files(self) -> list[UploadedFile]:
        return self.record.files

    @property
    def query(self) -> dict[str, str]:
        return self.record.query

    def param(self, name: str) -> str:
        return self.request.match_info[name]

    def snowflake(self, name: str) -> int:
        raw = self.request.match_info[name]
        if not raw.isdigit():
            raise err.form_error([name], "NUMBER_TYPE_COERCE", f'Value "{raw}" is not snowflake.')
        return int(raw)


Handler = Callable[[ApiRequest], Awaitable[Any]]


@dataclasses.dataclass
class RateLimitPolicy:
    """Per-bucket limits advertised in X-RateLimit-* headers and enforced (excess gets a real 429).

    ``overrides`` maps ``"METHOD /route/template"`` to ``(limit, window)``, e.g.
    ``{"POST /channels/{channel_id}/messages": (5, 5.0)}`` for Discord's usual message limit.
    """

    limit: int = 50
    window: float = 1.0
    overrides: dict[str, tuple[int, float]] = dataclasses.field(default_factory=dict)

    def for_bucket(self, bucket: str) -> tuple[int, float]:
        return self.overrides.get(bucket, (self.limit, self.window))


class RateLimiter:
    def __init__(self, policy: RateLimitPolicy) -> None:
        self.policy = policy
        self._windows: dict[str, tuple[float, int]] = {}

    def hit(self, bucket: str, key: str) -> tuple[int, int, float, bool]:
        """Count a request: returns (limit, remaining, reset_after, exceeded)."""
        limit, window = self.policy.for_bucket(bucket)
        now = time.monotonic()
        start, count = self._windows.get(key, (now, 0))
        if now - start >= window:
            start, count = now, 0
        count += 1
        self._windows[key] = (start, count)
        reset_after = max(window - (now - start), 0.001)
        return limit, max(limit - count, 0), reset_after, count > limit


class RestServer:
    """Builds the aiohttp application. Routes are added with :meth:`route`."""

    def __init__(
        self,
        *,
        token: str,
        log: RequestLog,
        faults: FaultInjector,
        notifier: ChangeNotifier,
        rate_limits: RateLimitPolicy,
        clock: Callable[[], float],
    ) -> None:
        self.token = token
        self.log = log
        self.faults = faults
        self.notifier = notifier
        self.rate_limiter = RateLimiter(rate_limits)
        self.clock = clock
        self.app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)

    def route(self, method: str, path: str, handler: Handler) -> None:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            api = ApiRequest(request, request[RECORD_KEY])
            result = await handler(api)
            if isinstance(result, web.StreamResponse):
                return result
            if result is NO_CONTENT:
                return web.Response(status=204)
            request[RESULT_KEY] = result
            return json_response(result)

        self.app.router.add_route(method, API_PREFIX + path, wrapped)

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Callable[..., Any]) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX):
            passthrough: web.StreamResponse = await handler(request)
            return passthrough
        route = _route_template(request)
        record = await self._record(request, route)
        request[RECORD_KEY] = record
        bucket = f"{request.method} {route or request.path}"
        key = bucket + ":" + "+".join(record.params.get(p, "") for p in _MAJOR_PARAMS)
        limited = route is not None and not route.startswith("/interactions/")
        limit, remaining, reset_after, exceeded = self.rate_limiter.hit(bucket, key) if limited else (1, 1, 1.0, False)
        try:
            response = await self._answer(request, handler, record, route, exceeded, reset_after)
        except DiscordAPIError as exc:
            record.response = exc.body()
            response = json_response(exc.body(), status=exc.status)
        else:
            record.response = request.get(RESULT_KEY, record.response)
        record.status = response.status
        if limited and "X-RateLimit-Limit" not in response.headers:
            _ratelimit_headers(response, limit, remaining, reset_after, bucket)
        response.headers.setdefault("Via", "1.1 google")
        self.notifier.notify()
        return response

    async def _answer(
        self,
        request: web.Request,
        handler: Callable[..., Any],
        record: RecordedRequest,
        route: str | None,
        exceeded: bool,
        reset_after: float,
    ) -> web.StreamResponse:
        needs_auth = not route or not route.startswith(_UNAUTHENTICATED_PREFIXES)
        if needs_auth and request.headers.get("Authorization") != f"Bot {self.token}":
            raise err.unauthorized()
        fault = self.faults.match(record)
        if fault is not None:
            record.fault = fault.name
            record.response = fault.body
            return json_response(fault.body, status=fault.status, headers=fault.headers)
        if exceeded:
            body = rate_limit_body(reset_after, global_=False)
            record.response = body
            return json_response(body, status=429, headers=rate_limit_headers(reset_after, bucket=route or ""))
        if route is None:
            if isinstance(request.match_info.http_exception, web.HTTPMethodNotAllowed):
                raise err.method_not_allowed()
            raise err.not_found_route()
        response: web.StreamResponse = await handler(request)
        return response

    async def _record(self, request: web.Request, route: str | None) -> RecordedRequest:
        body, files = await _parse_body(request)
        record = RecordedRequest(
            method=request.method,
            route=route,
            path=request.path.removeprefix(API_PREFIX),
            params=dict(request.match_info) if route else {},
            query=dict(request.query),
            headers={k: v for k, v in request.headers.items() if k.lower() != "authorization"},
            json=body,
            files=files,
            at=self.clock(),
            wall_time=time.time(),
        )
        self.log.append(record)
        return record


def _route_template(request: web.Request) -> str | None:
    if request.match_info.http_exception is not None:
        return None
    resource = request.match_info.route.resource
    if resource is None:
        return None
    return resource.canonical.removeprefix(API_PREFIX)


async def _parse_body(request: web.Request) -> tuple[Any, list[UploadedFile]]:
    if not request.body_exists:
        return None, []
    if request.content_type.startswith("multipart/"):
        form = await request.post()
        body: Any = None
        files: list[UploadedFile] = []
        for name, value in form.items():
            if isinstance(value, FileField):
                files.append(UploadedFile(name, value.filename, value.content_type, value.file.read()))
            elif name == "payload_json":
                body = json.loads(value)
        return body, files
    raw = await request.read()
    if not raw:
        return None, []
    try:
        return json.loads(raw), []
    except ValueError:
        return raw.decode(errors="replace"), []


def json_response(data: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py only parses JSON when Content-Type is exactly "application/json".
    response = web.Response(body=json.dumps(data).encode(), status=status, headers=headers)
    response.headers["Content-Type"] = "application/json"
    return response


def _bucket_hash(bucket: str) -> str:
    return hashlib.sha256(bucket.encode()).hexdigest()[:32]


def _ratelimit_headers(
    response: web.StreamResponse, limit: int, remaining: int, reset_after: float, bucket: str
) -> None:
    response.headers["X-RateLimit-Limit"] = str(limit)
    response.headers["X-RateLimit-Remaining"] = str(remaining)
    response.headers["X-RateLimit-Reset"] = f"{time.time() + reset_after:.3f}"
    response.headers["X-RateLimit-Reset-After"] = f"{reset_after:.3f}"
    response.headers["X-RateLimit-Bucket"] = _bucket_hash(bucket)


def rate_limit_body(retry_after: float, *, global_: bool) -> dict[str, Any]:
    return {"message": "You are being rate limited.", "retry_after": round(retry_after, 3), "global": global_}


def rate_limit_headers(
    retry_after: float, *, bucket: str, global_: bool = False, scope: str = "user"
) -> dict[str, str]:
    """Headers of a real 429 (``Via`` matters: without it discord.py treats a 429 as a Cloudflare ban)."""
    headers = {
        "Retry-After": str(max(1, math.ceil(retry_after))),
        "X-RateLimit-Scope": "global" if global_ else scope,
        "Via": "1.1 google",
    }
    if global_:
        headers["X-RateLimit-Global"] = "true"
    else:
        headers |= {
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
            "X-RateLimit-Reset-After": f"{retry_after:.3f}",
            "X-RateLimit-Bucket": _bucket_hash(bucket),
        }
    return headers
