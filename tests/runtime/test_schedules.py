"""Drafted schedules read as cron, with their time zone; unreadable ones refused clearly."""

from __future__ import annotations

import pytest

from assistant.runtime.schedules import ScheduleError, parse_schedule


@pytest.mark.parametrize(
    ("text", "cron"),
    [
        ("every Monday at 9am", "0 9 * * 1"),
        ("daily at 8:30", "30 8 * * *"),
        ("every weekday at 7am", "0 7 * * 1-5"),
        ("every hour", "0 * * * *"),
        ("hourly", "0 * * * *"),
        ("on the 1st of every month", "0 0 1 * *"),
        ("on the 1st of every month at 9am", "0 9 1 * *"),
        ("every 15 minutes", "*/15 * * * *"),
        ("every 2 hours on weekdays", "0 */2 * * 1-5"),
        ("Mondays and Thursdays at 5:30pm", "30 17 * * 1,4"),
        ("Monday to Friday at noon", "0 12 * * 1-5"),
        ("on the 1st and 15th of each month at 9am", "0 9 1,15 * *"),
        ("every year on January 1st", "0 0 1 1 *"),
        ("every other day at 6am", "0 6 */2 * *"),
        ("at 9am and 5pm every day", "0 9,17 * * *"),
        ("nightly at midnight", "0 0 * * *"),
        ("weekends at 10:15", "15 10 * * 0,6"),
        ("Every Monday at 07:00 CET, before the customer success stand-up", "0 7 * * 1"),
    ],
)
def test_schedules_become_cron(text: str, cron: str) -> None:
    assert parse_schedule(text).cron == cron


def test_time_zone_comes_from_the_text_else_the_setting() -> None:
    assert parse_schedule("every Monday at 07:00 CET").timezone == "Europe/Berlin"
    assert parse_schedule("daily at 9 Europe/Paris").timezone == "Europe/Paris"
    assert parse_schedule("daily at 9", default_timezone="Asia/Tokyo").timezone == "Asia/Tokyo"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("whenever an invoice arrives", ["say how often", "every Monday at 9am"]),
        ("the last Friday of the month", ["'last'", "cron"]),
        ("weekly", ["which day of the week"]),
        ("daily at 25:00", ["25:00 is not a time"]),
        ("every Monday at 13pm", ["13pm is not a time"]),
        ("", ["empty"]),
    ],
)
def test_unreadable_schedules_are_refused_saying_why(text: str, words: list[str]) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(text)
    for word in words:
        assert word in str(caught.value)
