"""Count the tokens a chat-model brain spends, per turn and in total (the cost of a design).

A LangChain callback handler added to each turn's graph config sees every model call the
brain makes inside the turn's nodes (LangGraph hands its config down to them). It is only
added for a brain backed by a model: the offline brain calls none. The turn's counter also
rides in the turn's context, so the journal stores on each draft and revision the tokens
spent on it (``unreported``): what ``flowdraft stats`` reports as the cost per design.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.outputs import LLMResult
from opentelemetry import context as otel_context

from assistant.observability import metrics


def usage_of(response: LLMResult) -> tuple[int, int]:
    """Return (input, output) tokens of a model call, from whichever field reports them."""
    spent_in = spent_out = 0
    for generations in response.generations:
        for generation in generations:
            usage = getattr(getattr(generation, "message", None), "usage_metadata", None) or {}
            spent_in += int(usage.get("input_tokens", 0))
            spent_out += int(usage.get("output_tokens", 0))
    if not (spent_in or spent_out):
        usage = (response.llm_output or {}).get("token_usage") or {}
        spent_in = int(usage.get("prompt_tokens", 0))
        spent_out = int(usage.get("completion_tokens", 0))
    return spent_in, spent_out


class TokenCounter(BaseCallbackHandler):
    """Add up the tokens of the model calls made during one turn."""

    run_inline = True  # called in the turn's own task: no thread hop per model call

    def __init__(self) -> None:
        self.input = 0
        self.output = 0
        self.reported = (0, 0)
        """The (input, output) tokens already stored on a draft or a revision."""

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        """Count the tokens of a finished model call."""
        spent_in, spent_out = usage_of(response)
        self.input += spent_in
        self.output += spent_out
        metrics.tokens_spent(spent_in, spent_out)

    def unreported(self) -> tuple[int, int]:
        """Return the tokens spent since the last call (so each draft stores its own)."""
        spent_in, spent_out = self.input - self.reported[0], self.output - self.reported[1]
        self.reported = (self.input, self.output)
        return spent_in, spent_out


CONTEXT_KEY = "flowdraft.tokens"


def with_counter(context: otel_context.Context, counter: TokenCounter) -> otel_context.Context:
    """Return ``context`` carrying the turn's token counter."""
    return otel_context.set_value(CONTEXT_KEY, counter, context)


def current_counter() -> TokenCounter | None:
    """Return the token counter of the turn being run, if its brain calls a model."""
    found = otel_context.get_value(CONTEXT_KEY)
    return found if isinstance(found, TokenCounter) else None
