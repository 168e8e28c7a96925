"""Say in plain words what a schedule edit does to a draft's trigger (it has exactly one)."""

from __future__ import annotations

from assistant.schemas import Trigger

SPOKEN = {
    "hourly": "every hour",
    "daily": "every day",
    "weekdays": "every weekday",
    "monthly": "every month",
}
NO_LONGER = {
    "event": "it no longer starts on that event",
    "webhook": "it no longer starts from its hook",
}


def spoken_schedule(schedule: str) -> str:
    """Return a normalised schedule ("weekly:monday at 09:00") as people say it.

    Example:
        >>> spoken_schedule("weekly:monday at 09:00")
        'every Monday at 09:00'
        >>> spoken_schedule("daily")
        'every day'
    """
    base, _, time = schedule.partition(" at ")
    if base.startswith("weekly:"):
        said = f"every {base.removeprefix('weekly:').capitalize()}"
    else:
        said = SPOKEN.get(base, base)
    return f"{said} at {time}" if time else said


def trigger_change(before: Trigger, schedule: str) -> str:
    """Describe replacing ``before`` with ``schedule``, naming what stops starting the workflow.

    A workflow has one trigger, so a schedule replaces an event or a hook; the reviewer is
    told so rather than finding out when invoices stop arriving.

    Example:
        >>> trigger_change(Trigger(kind="manual", detail=""), "daily")
        'the trigger changes from manual to every day'
    """
    after = spoken_schedule(schedule)
    if before.kind == "schedule":
        return f"the schedule changes from {spoken_schedule(before.detail)} to {after}"
    was = f"{before.kind} ({before.detail})" if before.detail else before.kind
    note = f"the trigger changes from {was} to {after}"
    if before.kind in NO_LONGER:
        note += f": a workflow has one trigger, so {NO_LONGER[before.kind]}"
    return note
