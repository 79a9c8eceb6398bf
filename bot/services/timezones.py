"""IANA timezone names: validation with a helpful suggestion, and autocomplete search."""

from __future__ import annotations

import difflib
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.errors import UserError

# Abbreviations people type, mapped to the zone they most often mean.
COMMON_ALIASES = {
    "EST": "America/New_York",
    "EDT": "America/New_York",
    "ET": "America/New_York",
    "CST": "America/Chicago",
    "CDT": "America/Chicago",
    "MST": "America/Denver",
    "PST": "America/Los_Angeles",
    "PDT": "America/Los_Angeles",
    "PT": "America/Los_Angeles",
    "BST": "Europe/London",
    "CET": "Europe/Paris",
    "CEST": "Europe/Paris",
    "JST": "Asia/Tokyo",
    "KST": "Asia/Seoul",
    "IST": "Asia/Kolkata",
    "AEST": "Australia/Sydney",
    "AEDT": "Australia/Sydney",
}


@cache
def _zone_names() -> tuple[str, ...]:
    # Only canonical-looking names (Area/City plus UTC); the legacy aliases like "US/Eastern"
    # still validate, they just do not crowd the autocomplete.
    names = {n for n in available_timezones() if "/" in n and not n.startswith(("Etc/", "SystemV/"))}
    names.add("UTC")
    return tuple(sorted(names))


@cache
def _by_folded_name() -> dict[str, str]:
    return {name.casefold(): name for name in available_timezones()}


def _folded(text: str) -> str:
    return text.strip().replace(" ", "_").casefold()


def validate_timezone(name: str) -> str:
    """The canonical spelling of `name`, or a UserError with the closest suggestion."""
    cleaned = name.strip()
    exact = _by_folded_name().get(_folded(cleaned))
    if exact is not None:
        try:
            ZoneInfo(exact)
        except (ZoneInfoNotFoundError, ValueError):  # pragma: no cover - broken tzdata
            pass
        else:
            return exact
    suggestion = suggest_timezone(cleaned)
    hint = f" Did you mean `{suggestion}`?" if suggestion else ""
    shown = cleaned[:64] or "(empty)"
    raise UserError(
        f"`{shown}` is not a timezone I know.{hint} Use an IANA name like `America/New_York` or "
        "`Europe/London` (start typing and pick one from the list)."
    )


def suggest_timezone(name: str) -> str | None:
    alias = COMMON_ALIASES.get(name.strip().upper())
    if alias:
        return alias
    folded = _folded(name)
    if not folded:
        return None
    matches = [n for n in _zone_names() if folded in n.casefold()]
    if matches:
        return min(matches, key=len)
    folded_names = {n.casefold(): n for n in _zone_names()}
    close = difflib.get_close_matches(folded, list(folded_names), n=1, cutoff=0.6)
    if close:
        return folded_names[close[0]]
    # "tokio" vs "Asia/Tokyo": compare with the city part alone.
    cities = {n.rsplit("/", 1)[-1].casefold(): n for n in _zone_names()}
    close = difflib.get_close_matches(folded.rsplit("/", 1)[-1], list(cities), n=1, cutoff=0.6)
    return cities[close[0]] if close else None


def search_timezones(query: str, limit: int = 25) -> list[str]:
    """Zones matching `query` for autocomplete: prefix matches on any part first, then substrings."""
    folded = _folded(query)
    names = _zone_names()
    if not folded:
        popular = [
            "UTC",
            "America/New_York",
            "America/Chicago",
            "America/Los_Angeles",
            "Europe/London",
            "Europe/Paris",
            "Europe/Berlin",
            "Asia/Tokyo",
            "Asia/Seoul",
            "Australia/Sydney",
        ]
        return popular[:limit]
    alias = COMMON_ALIASES.get(query.strip().upper())
    starts: list[str] = [alias] if alias else []
    contains: list[str] = []
    for name in names:
        lowered = name.casefold()
        if any(part.startswith(folded) for part in lowered.split("/")) or lowered.startswith(folded):
            if name not in starts:
                starts.append(name)
        elif folded in lowered:
            contains.append(name)
    return (starts + contains)[:limit]
