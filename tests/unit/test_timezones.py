from __future__ import annotations

import pytest

from bot.errors import UserError
from bot.services.timezones import search_timezones, suggest_timezone, validate_timezone


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [("America/New_York", "America/New_York"), ("europe/london", "Europe/London"), ("UTC", "UTC")],
)
def test_valid_names_are_canonicalised(typed: str, canonical: str) -> None:
    assert validate_timezone(typed) == canonical


@pytest.mark.parametrize(
    ("typed", "suggestion"),
    [
        ("Europe/Londn", "Europe/London"),
        ("PST", "America/Los_Angeles"),
        ("tokyo", "Asia/Tokyo"),
        ("New York", "America/New_York"),
        ("Asia/Tokio", "Asia/Tokyo"),
    ],
)
def test_unknown_names_get_a_suggestion(typed: str, suggestion: str) -> None:
    assert suggest_timezone(typed) == suggestion
    with pytest.raises(UserError) as caught:
        validate_timezone(typed)
    assert suggestion in str(caught.value)


def test_nonsense_is_refused_with_an_example() -> None:
    with pytest.raises(UserError, match="America/New_York"):
        validate_timezone("qqqqqqqq")


def test_search_prefers_city_prefixes_and_caps_at_25() -> None:
    assert search_timezones("new")[0] == "America/New_York"
    assert "Europe/London" in search_timezones("lon")
    assert len(search_timezones("a")) == 25
    assert search_timezones("")[0] == "UTC"
