"""The interactive terminal channel: drafts as tables, then Approve / Edit / Reject."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from assistant.review import action_target, review_hash
from assistant.schemas import ReviewRequest, ReviewResponse, WorkflowDraft
from graphs.runner import ChatRunner, InputError

Ask = Callable[[str], str]
RISK_STYLE = {"low": "green", "medium": "yellow", "high": "bold red"}
QUIT = ("quit", "exit", "q")
REVIEW_PROMPT = "[a]pprove / [e]dit / [r]eject"


def step_what(step: Any) -> str:
    """Return the short 'what it does' cell for a step."""
    if step.kind == "action":
        return f"{step.connector}.{step.operation}{action_target(step)}"
    if step.kind == "condition":
        return f"if {step.condition}"
    if step.kind == "approval":
        return f"approval by {step.approver_role}"
    return f"task for {step.approver_role or 'a person'}"


def workflow_table(draft: WorkflowDraft) -> Table:
    """Return the draft as a numbered table."""
    table = Table(title=f"{draft.title} — v{draft.version}", title_justify="left", expand=False)
    for column in ("#", "step", "does", "risk", "approver", "notes"):
        table.add_column(column, overflow="fold")
    for number, step in enumerate(draft.steps, 1):
        table.add_row(
            str(number),
            escape(step.title),
            escape(step_what(step)),
            f"[{RISK_STYLE[step.risk]}]{step.risk}[/]",
            step.approver_role or "",
            f"[red]blocked: {escape(step.blocked_reason)}[/]" if step.blocked_reason else "",
        )
    return table


class TerminalChat:
    """Run a conversation in the terminal for one user on one thread."""

    def __init__(
        self, runner: ChatRunner, *, thread: str, user: str, console: Console, ask: Ask
    ) -> None:
        self.runner = runner
        self.thread = thread
        self.user = user
        self.console = console
        self.ask = ask

    async def run(self) -> None:
        """Read goals until the user types 'quit' or ends input; a waiting draft comes first."""
        self.console.print(
            "[bold]Flowdraft[/] — describe a process to automate, or ask a question. "
            "Type 'quit' to leave."
        )
        pending = await self.runner.pending_review(self.thread)
        if pending is not None:
            self.console.print(f"Thread {self.thread} is waiting for your review:")
            self.show_waiting(pending)
        while True:
            if pending is not None and not await self.review(pending):
                return
            text = self.read("you")
            if text is None:
                return
            pending = await self.turn(self.runner.send_text(self.thread, text, self.user))

    def read(self, prompt: str) -> str | None:
        """Ask ``prompt``; return None when the user quits or input ends."""
        try:
            text = self.ask(prompt).strip()
        except (EOFError, KeyboardInterrupt):
            return None
        return None if text.lower() in QUIT else text

    async def turn(self, stream: Any) -> ReviewRequest | None:
        """Show every event of one turn; return the review the conversation waits on after it.

        A review shown in the turn is the one to answer, on its thread (a new goal typed
        beside a draft is drafted on a thread of its own); otherwise the thread's own review,
        which a question or small talk typed beside it leaves waiting.
        """
        review: ReviewRequest | None = None
        try:
            async for event in stream:
                shown = self.show(event)
                if shown is not None:
                    review, self.thread = shown, str(event.get("thread") or self.thread)
        except InputError as exc:
            self.console.print(f"[red]{escape(str(exc))}[/]")
        return review or await self.runner.pending_review(self.thread)

    def show(self, event: dict[str, Any]) -> ReviewRequest | None:
        """Render one event; return the review request when the event is one."""
        kind = event["type"]
        if kind == "intent":
            intent = event["intent"]
            slots = ", ".join(f"{k}={v}" for k, v in intent["slots"].items()) or "no slots"
            self.console.print(
                f"[dim]intent: {intent['kind']} ({intent['confidence']:.2f}); {escape(slots)}[/]"
            )
        elif kind == "draft":
            draft = WorkflowDraft.model_validate(event["workflow"])
            self.console.print(workflow_table(draft))
            self.console.print(
                f"[dim]trigger: {draft.trigger.kind} — {escape(draft.trigger.detail)}[/]"
            )
            for source in draft.sources:
                self.console.print(
                    f"[dim]  source: {escape(source.title)} ({source.doc}, {source.score:.2f})[/]"
                )
        elif kind == "activated":
            automation = event["automation"]
            trigger = automation["trigger"]
            where = trigger.get("hook") or trigger.get("cron") or trigger["kind"]
            self.console.print(
                f"[green]live[/] {escape(automation['id'])} — {escape(automation['title'])} "
                f"v{automation['version']} ({escape(str(where))})"
            )
        elif kind == "run":
            run = event["run"]
            self.console.print(f"[dim]run {escape(run['id'])}: {escape(run['status'])}[/]")
        elif kind == "message":
            self.console.print(escape(event["text"]))
            for source in event.get("sources", []):
                self.console.print(f"[dim]  source: {escape(source['title'])} ({source['doc']})[/]")
        elif kind == "review":
            request = ReviewRequest.model_validate(event["request"])
            for line in request.description.splitlines():
                if line.startswith(("Note:", "Approval needed", "Blocked by policy")):
                    self.console.print(f"[yellow]{escape(line)}[/]")
            return request
        elif kind == "error":
            self.console.print(f"[red]{escape(event['message'])}[/]")
        return None

    def show_waiting(self, request: ReviewRequest) -> None:
        """Show a draft that already waits for review, as a turn would have shown it."""
        workflow = request.action_request.args.get("workflow")
        if workflow:
            self.show({"type": "draft", "workflow": workflow})
        self.show({"type": "review", "request": request.model_dump(mode="json")})

    async def review(self, request: ReviewRequest) -> bool:
        """Take answers until the conversation stops waiting; return False if the user quits."""
        pending: ReviewRequest | None = request
        while pending is not None:
            stream = self.answer(pending)
            if stream is None:
                self.console.print(
                    f"The draft keeps waiting for review: flowdraft chat --thread {self.thread}"
                )
                return False
            pending = await self.turn(stream)
        return True

    def answer(self, request: ReviewRequest) -> Any:
        """Ask for Approve / Edit / Reject; return the turn it starts, or None to quit.

        Decisions name the version shown. Anything else typed is read like any message on
        a thread waiting for review: a change to the draft, or a question or new goal,
        which is answered while the draft keeps waiting.
        """
        shown = review_hash(request)
        while True:
            raw = self.read(REVIEW_PROMPT)
            if raw is None:
                return None
            # The menu's keys; words ("approve", "lgtm", "reject") are read by the graph,
            # as in every other channel (graphs.typed).
            choice = raw.lower()
            if choice == "a":
                kind, args = "accept", None
            elif choice == "r":
                kind, args = "ignore", None
            elif choice in ("e", "edit"):
                instruction = self.read("what should change (e.g. 'remove step 2')")
                if instruction is None:
                    return None
                if not instruction:
                    continue
                kind, args = "response", instruction
            elif choice:
                return self.runner.send_text(self.thread, raw, self.user, shown=shown)
            else:
                continue
            decision = ReviewResponse.model_validate(
                {"type": kind, "args": args, "user": self.user, "content_hash": shown}
            )
            return self.runner.send_decision(self.thread, decision)
