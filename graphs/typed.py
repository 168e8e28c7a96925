"""Read text typed on a thread whose draft waits for review: an answer to it, or an aside.

An answer is approve or reject in plain words, a test-run request, or a change to the
draft ("send it to #ops instead"). Anything else the brain is sure of (a question, small
talk, a new goal) is an aside: it is answered on a thread of its own and the review keeps
waiting, so nothing typed beside a draft is ever mistaken for an edit of it.
"""

from __future__ import annotations

import re

from assistant.brain.base import Brain
from assistant.review import review_version
from assistant.schemas import Intent, ReviewRequest, ReviewResponse
from graphs.samples import COMMAND as TEST_RUN

APPROVE = re.compile(
    r"^\s*(approve[ds]?|accept(ed)?|yes|y|lgtm|ship it|go( ahead)?|looks good|ok(ay)?|confirm)"
    r"[\s.!]*$",
    re.IGNORECASE,
)
REJECT = re.compile(
    r"^\s*(reject(ed)?|decline[d]?|cancel|discard|no|n|ignore|stop|abort)[\s.!]*$", re.IGNORECASE
)
EDIT_KINDS = ("revise", "clarify")
"""Intents that read as a change to the waiting draft; a vague one (clarify) is an edit
that was not understood, and the reviewer is told what changes can be made."""
ASIDE_CONFIDENCE = 0.75
"""Below this the brain's guess is too weak to take text away from the waiting review."""


def decision_from_text(text: str, user: str, content_hash: str | None = None) -> ReviewResponse:
    """Read a typed reply to a pending review: approve, reject, or an edit in plain words.

    ``content_hash`` binds the decision to the version it answers.
    """
    if APPROVE.match(text):
        return ReviewResponse(type="accept", user=user, content_hash=content_hash)
    if REJECT.match(text):
        return ReviewResponse(type="ignore", user=user, content_hash=content_hash)
    return ReviewResponse(type="response", args=text, user=user, content_hash=content_hash)


async def is_aside(text: str, brain: Brain) -> bool:
    """Tell whether ``text``, typed while a draft waits, is not an answer to its review.

    Example:
        >>> import asyncio
        >>> from assistant.schemas import Intent
        >>> class Brain:
        ...     async def classify(self, text, *, has_draft=False):
        ...         return Intent(kind="question", confidence=0.8)
        >>> asyncio.run(is_aside("who approves refunds?", Brain()))
        True
        >>> asyncio.run(is_aside("approve", Brain()))
        False
    """
    if APPROVE.match(text) or REJECT.match(text) or TEST_RUN.match(text):
        return False
    return reads_as_aside(await brain.classify(text, has_draft=True))


def reads_as_aside(intent: Intent) -> bool:
    """Tell whether an intent, read knowing a draft waits, is something else than an edit."""
    return intent.kind not in EDIT_KINDS and intent.confidence >= ASIDE_CONFIDENCE


def still_waiting(request: ReviewRequest, thread: str, new_thread: str | None = None) -> str:
    """Say that the review of ``thread`` still waits, and where a new goal's draft went."""
    workflow = request.action_request.args.get("workflow")
    if isinstance(workflow, dict):
        what = f"Your draft '{workflow.get('title')}' v{review_version(request)}"
    else:
        what = "The reply drafted here"
    if new_thread is None:
        return (
            f"{what} still waits for review: approve it, reject it, or tell me what to change "
            "(for example 'remove step 2')."
        )
    return (
        f"That is a new goal, so I drafted it on its own in thread {new_thread}: review it "
        f"there. {what} still waits for review in thread {thread}."
    )
