"""The ``Brain`` over any langchain chat model, with retries, a timeout and an offline fallback.

Structured output first uses the model's native support (tool or JSON-schema calling); models
without it are asked for JSON and parsed. Invalid output is sent back with the error, up to
``retries`` times; a timeout, an error or output that stays invalid falls back to the offline
brain for that call, so a flaky model never loses a turn.

Documents reach the model as data (see ``knowledge.screening``): sentences the policy's
injection patterns flag are withheld from the prompt, approval questions list the policy
documents first, and an answer or reply that itself relaxes a rule is not given: the offline
brain, which quotes the policy, answers instead.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from pydantic import ValidationError

from assistant.brain import prompts
from assistant.brain.base import Answer, Brain, Revision
from assistant.brain.model_output import (
    AnswerOut,
    DraftOut,
    IntentOut,
    InvalidOutput,
    Model,
    ReplyOut,
    RevisionOut,
    build_steps,
    parse_json,
)
from assistant.policy import Policy, load_policy
from assistant.schemas import ROLES, Intent, ReplyDraft, Source, Ticket, Triage, WorkflowDraft
from connectors.operations import CATALOG
from knowledge.library import LibraryDoc
from knowledge.retrieval import Passage
from knowledge.screening import DocumentScreen, authority_first

log = logging.getLogger(__name__)


class ModelUnavailable(RuntimeError):
    """Raised when ``FLOWDRAFT_MODEL`` names a model that cannot be loaded."""


def load_chat_model(spec: str) -> BaseChatModel:
    """Build the chat model ``provider:model`` with langchain's ``init_chat_model``."""
    from langchain.chat_models import init_chat_model

    provider = spec.split(":", 1)[0]
    try:
        return init_chat_model(spec)
    except ImportError as exc:
        raise ModelUnavailable(
            f"FLOWDRAFT_MODEL={spec} needs the langchain package for {provider}: "
            f"run `uv add langchain-{provider}` ({exc})"
        ) from exc
    except ValueError as exc:
        raise ModelUnavailable(f"FLOWDRAFT_MODEL={spec}: {exc}") from exc


class ChatModelBrain:
    """A ``Brain`` backed by a chat model, falling back to ``fallback`` on failure."""

    name = "chat-model"

    def __init__(
        self,
        model: BaseChatModel,
        *,
        fallback: Brain,
        playbooks: list[LibraryDoc],
        timeout: float = 30.0,
        retries: int = 2,
        policy: Policy | None = None,
    ) -> None:
        self.model = model
        self.screen = DocumentScreen((policy or load_policy()).injection)
        self.fallback = fallback
        self.playbooks = {d.slug: d for d in playbooks}
        self.timeout = timeout
        self.retries = retries

    async def structured(self, schema: type[Model], prompt: str) -> Model:
        """Ask the model for ``schema``; retry invalid output; raise after the last try."""
        messages: list[BaseMessage] = [SystemMessage(prompts.SYSTEM), HumanMessage(prompt)]
        native = self.native(schema)
        if native is not None:
            try:
                result = await asyncio.wait_for(native.ainvoke(messages), self.timeout)
                if isinstance(result, schema):
                    return result
            except (ValidationError, ValueError) as exc:
                log.info("native structured output failed (%s); asking for JSON", exc)
        schema_text = json.dumps(schema.model_json_schema())
        messages.append(HumanMessage(prompts.JSON_ONLY.format(schema=schema_text)))
        error: Exception | None = None
        for _ in range(self.retries + 1):
            reply = await asyncio.wait_for(self.model.ainvoke(messages), self.timeout)
            try:
                return parse_json(reply, schema)
            except InvalidOutput as exc:
                error = exc
                messages += [
                    AIMessage(content=str(reply.content)),
                    HumanMessage(prompts.RETRY.format(error=exc)),
                ]
        raise InvalidOutput(f"still invalid after {self.retries + 1} tries: {error}")

    def native(self, schema: type[Model]) -> Any:
        """Return the model bound to native structured output, or None if unsupported."""
        try:
            return self.model.with_structured_output(schema)
        except (NotImplementedError, AttributeError, TypeError):
            return None

    async def guarded(self, what: str, call: Any, fallback: Any) -> Any:
        """Run ``call``; on timeout or any failure log it and use ``fallback``."""
        try:
            return await call
        except Exception as exc:
            reason = (
                "timed out" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"
            )
            log.warning("model %s %s; using the offline brain", what, reason)
            return await fallback()

    def refuse_relaxing(self, text: str) -> None:
        """Raise when model text gives orders or relaxes a rule, so the offline brain answers.

        Raises:
            InvalidOutput: ``text`` matches one of the policy's injection patterns.
        """
        if self.screen.flags(text):
            raise InvalidOutput("the model's text relaxes a rule the policy sets")

    async def classify(self, text: str, *, has_draft: bool = False) -> Intent:
        """Classify with the model; offline on failure."""
        prompt = prompts.CLASSIFY.format(
            roles=", ".join(ROLES), has_draft=has_draft, text=prompts.defuse(text)
        )

        async def ask() -> Intent:
            out = await self.structured(IntentOut, prompt)
            return Intent(
                kind=out.kind,
                confidence=out.confidence,
                slots=out.slots,
                missing=out.missing,
                question=out.question,
            )

        return await self.guarded(
            "classify", ask(), lambda: self.fallback.classify(text, has_draft=has_draft)
        )

    async def draft_workflow(
        self, goal: str, intent: Intent, passages: list[Passage]
    ) -> WorkflowDraft:
        """Draft with the model from the retrieved documents; offline on failure."""
        operations = ", ".join(f"{c}.{o}" for c, ops in CATALOG.items() for o in ops)
        prompt = prompts.DRAFT.format(
            operations=operations,
            playbooks=", ".join(self.playbooks),
            slots=json.dumps(intent.slots),
            goal=prompts.defuse(goal),
            documents=documents(passages, self.screen),
        )

        async def ask() -> WorkflowDraft:
            out = await self.structured(DraftOut, prompt)
            playbook = out.playbook if out.playbook in self.playbooks else None
            return WorkflowDraft(
                title=out.title,
                goal=goal,
                playbook=playbook,
                trigger=out.trigger,
                steps=build_steps(out.steps),
                sources=[p.source() for p in passages],
            ).sealed()

        return await self.guarded(
            "draft", ask(), lambda: self.fallback.draft_workflow(goal, intent, passages)
        )

    async def revise_workflow(self, draft: WorkflowDraft, instruction: str) -> Revision:
        """Revise with the model; offline on failure."""
        prompt = prompts.REVISE.format(
            workflow=draft.model_dump_json(include={"title", "trigger", "steps"}),
            instruction=prompts.defuse(instruction),
        )

        async def ask() -> Revision:
            out = await self.structured(RevisionOut, prompt)
            if not out.understood or not out.steps:
                return Revision(None, problem=out.explanation or "I could not apply that change.")
            changes: dict[str, Any] = {"steps": build_steps(out.steps)}
            if out.title:
                changes["title"] = out.title
            if out.trigger:
                changes["trigger"] = out.trigger
            return Revision(draft.next_version(**changes), changes=[out.explanation or instruction])

        return await self.guarded(
            "revise", ask(), lambda: self.fallback.revise_workflow(draft, instruction)
        )

    async def answer(self, question: str, passages: list[Passage]) -> Answer:
        """Answer with the model from the passages; offline on failure."""
        passages = authority_first(question, passages)
        prompt = prompts.ANSWER.format(
            question=prompts.defuse(question), documents=documents(passages, self.screen)
        )

        async def ask() -> Answer:
            out = await self.structured(AnswerOut, prompt)
            self.refuse_relaxing(out.answer)
            return Answer(out.answer, cited(passages, out.cited_docs))

        return await self.guarded("answer", ask(), lambda: self.fallback.answer(question, passages))

    async def draft_reply(self, ticket: Ticket, passages: list[Passage]) -> ReplyDraft:
        """Draft a reply with the model from the passages; offline on failure."""
        prompt = prompts.REPLY.format(
            subject=prompts.defuse(ticket.subject),
            body=prompts.defuse(ticket.body),
            documents=documents(passages, self.screen),
        )

        async def ask() -> ReplyDraft:
            out = await self.structured(ReplyOut, prompt)
            self.refuse_relaxing(out.body)
            citations = cited(passages, out.cited_docs)
            route = "human" if out.route != "draft" or not citations else "draft"
            return ReplyDraft(
                body=out.body,
                citations=citations,
                confidence=out.confidence,
                route=route,
                triage=Triage(category=out.category, priority=out.priority),
            )

        return await self.guarded(
            "reply", ask(), lambda: self.fallback.draft_reply(ticket, passages)
        )


def documents(passages: list[Passage], screen: DocumentScreen) -> str:
    """Render passages for a prompt (whole document when known, else the best chunk).

    Sentences ``screen`` flags are withheld, whatever the store holds.
    """
    return prompts.documents_block(
        [(p.doc, p.kind, p.title, screen.clean(p.document or p.text)) for p in passages]
    )


def cited(passages: list[Passage], docs: list[str]) -> list[Source]:
    """Return sources for the cited docs that were actually retrieved (others are dropped)."""
    by_doc = {p.doc: p for p in passages}
    return [by_doc[d].source() for d in dict.fromkeys(docs) if d in by_doc]
