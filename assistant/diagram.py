"""Draw a workflow as an SVG flowchart: trigger, then each step, coloured by kind and risk.

A condition branches: "yes" goes on to the steps it guards, "no" skips them (along a lane
on the right) to the first step it does not guard, or to the end when it guards every later
step. Which steps a condition guards is the runtime's rule (``guarded_steps``), so the
picture shows what a run does. Text wraps at word boundaries instead of being cut.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from html import escape
from itertools import pairwise

from assistant.review import target_text, who_in_each_run
from assistant.runtime.steps import guarded_steps
from assistant.schemas import Step, WorkflowDraft

BOX_W = 520
LEFT = 30
GAP = 34
LANE = 22
TITLE_CHARS = 54  # bold 15px text across the box's inner width
SUB_CHARS = 74  # 12px text across the same width
FILL = {
    "trigger": "#eef2ff",
    "action": "#e0f2fe",
    "approval": "#fef3c7",
    "condition": "#f3e8ff",
    "human_task": "#dcfce7",
    "end": "#f1f5f9",
}
STROKE = {"low": "#64748b", "medium": "#d97706", "high": "#dc2626"}
ICON = {"action": "▶", "approval": "✔", "condition": "◆", "human_task": "👤"}
LINE = "#94a3b8"
NO = "#7c3aed"


def subtitle(step: Step) -> str:
    """Return the second line of a step's box."""
    if step.blocked_reason:
        return f"BLOCKED by policy: {step.blocked_reason}"
    if step.kind == "action":
        who = f" · going live needs {step.approver_role}" if step.approver_role else ""
        return f"{step.connector}.{step.operation} {target_text(step)}".strip() + who
    if step.kind == "condition":
        return f"if {step.condition}"
    return f"in each run, {who_in_each_run(step)}"


@dataclass
class Box:
    """One box of the chart: where it is and what it says."""

    y: int
    fill: str
    stroke: str
    title: list[str]
    sub: list[str]
    dashed: bool = False

    @property
    def height(self) -> int:
        return 16 + 20 * len(self.title) + 16 * len(self.sub)

    def svg(self) -> str:
        """Return the box as SVG: a rounded rectangle with its wrapped lines."""
        dash = ' stroke-dasharray="6 4"' if self.dashed else ""
        parts = [
            f'<rect x="{LEFT}" y="{self.y}" width="{BOX_W}" height="{self.height}" rx="10" '
            f'fill="{self.fill}" stroke="{self.stroke}" stroke-width="2"{dash}/>'
        ]
        y = self.y + 24
        for line in self.title:
            parts.append(
                f'<text x="{LEFT + 16}" y="{y}" font-size="15" font-weight="600" '
                f'fill="#0f172a">{escape(line)}</text>'
            )
            y += 20
        for line in self.sub:
            parts.append(
                f'<text x="{LEFT + 16}" y="{y - 2}" font-size="12" fill="#475569">'
                f"{escape(line)}</text>"
            )
            y += 16
        return "".join(parts)


def wrap(text: str, width: int) -> list[str]:
    """Return ``text`` in lines of at most ``width`` characters, broken between words."""
    return textwrap.wrap(text, width, break_on_hyphens=False) or [""]


def arrow(x: int, y_from: int, y_to: int, label: str = "") -> str:
    """Return a downward arrow, with an optional label beside it."""
    text = (
        f'<text x="{x + 8}" y="{(y_from + y_to) // 2 + 4}" font-size="12" font-weight="600" '
        f'fill="#15803d">{label}</text>'
        if label
        else ""
    )
    return (
        f'<line x1="{x}" y1="{y_from}" x2="{x}" y2="{y_to - 6}" stroke="{LINE}" stroke-width="2"/>'
        f'<polygon points="{x - 6},{y_to - 8} {x + 6},{y_to - 8} {x},{y_to}" fill="{LINE}"/>{text}'
    )


def skip_path(y_from: int, y_to: int, lane: int) -> str:
    """Return the "no" path: out of a condition's right side, down a lane, into a later box."""
    right, x = LEFT + BOX_W, LEFT + BOX_W + LANE * (lane + 1)
    return (
        f'<polyline points="{right},{y_from} {x},{y_from} {x},{y_to} {right + 7},{y_to}" '
        f'fill="none" stroke="{NO}" stroke-width="2" stroke-dasharray="5 3"/>'
        f'<polygon points="{right + 8},{y_to - 6} {right + 8},{y_to + 6} {right},{y_to}" '
        f'fill="{NO}"/>'
        f'<text x="{right + 5}" y="{y_from - 5}" font-size="12" font-weight="600" '
        f'fill="{NO}">no</text>'
    )


def skips(draft: WorkflowDraft) -> dict[int, int]:
    """Return, for each condition's index, the index a false condition goes on to.

    ``len(draft.steps)`` stands for the end of the run.
    """
    targets = {}
    for index, step in enumerate(draft.steps):
        if step.kind != "condition":
            continue
        guarded = set(guarded_steps(draft.steps, index))
        after = [i for i in range(index + 1, len(draft.steps)) if draft.steps[i].id not in guarded]
        targets[index] = after[0] if after else len(draft.steps)
    return targets


def lanes(targets: dict[int, int]) -> dict[int, int]:
    """Return a lane for each condition's "no" path: a skip around others goes outside them.

    So no path crosses another: the innermost skips run closest to the boxes.
    """
    lane_of: dict[int, int] = {}
    for index in sorted(targets, reverse=True):
        inside = [c for c in lane_of if index < c < targets[index]]
        lane_of[index] = max((lane_of[c] + 1 for c in inside), default=0)
    return lane_of


def workflow_svg(draft: WorkflowDraft) -> str:
    """Return the draft as a standalone SVG document.

    Example:
        >>> from assistant.schemas import Step, WorkflowDraft
        >>> svg = workflow_svg(WorkflowDraft(title="T", goal="g", steps=[
        ...     Step(id="s1", title="Approve", kind="approval", approver_role="cfo")]).sealed())
        >>> svg.startswith("<svg") and "Approve" in svg
        True
    """
    targets = skips(draft)
    lane_of = lanes(targets)
    heading = wrap(f"{draft.title} (v{draft.version})", 60)
    parts = [
        f'<text x="{LEFT + BOX_W // 2}" y="{28 + 22 * i}" font-size="18" font-weight="700" '
        f'text-anchor="middle" fill="#0f172a">{escape(line)}</text>'
        for i, line in enumerate(heading)
    ]
    y = 24 + 22 * len(heading)
    trigger = Box(y, FILL["trigger"], "#6366f1", ["Trigger"], wrap(_trigger(draft), SUB_CHARS))
    boxes = [trigger]
    for number, step in enumerate(draft.steps, 1):
        y += boxes[-1].height + GAP
        stroke = STROKE["high"] if step.blocked_reason else STROKE[step.risk]
        title = wrap(f"{number}. {ICON[step.kind]} {step.title}", TITLE_CHARS)
        sub = wrap(subtitle(step), SUB_CHARS)
        boxes.append(Box(y, FILL[step.kind], stroke, title, sub, dashed=bool(step.blocked_reason)))
    if len(draft.steps) in targets.values():
        y += boxes[-1].height + GAP
        boxes.append(Box(y, FILL["end"], LINE, ["End"], ["nothing more runs"]))
    middle = LEFT + BOX_W // 2
    for index, (above, below) in enumerate(pairwise(boxes)):
        after_condition = index >= 1 and draft.steps[index - 1].kind == "condition"
        parts.append(
            arrow(middle, above.y + above.height, below.y, "yes" if after_condition else "")
        )
    for index, target in targets.items():
        condition, landing = boxes[index + 1], boxes[target + 1]
        # Paths leave near a box's bottom and arrive near its top, so they never meet.
        arrive = landing.y + 10 + 6 * lane_of[index]
        parts.append(skip_path(condition.y + condition.height - 12, arrive, lane_of[index]))
    parts += [box.svg() for box in boxes]
    width = LEFT + BOX_W + LANE * (max(lane_of.values(), default=-1) + 2) + 12
    height = boxes[-1].y + boxes[-1].height + 20
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif">'
        f'<rect width="100%" height="100%" fill="#ffffff"/>{"".join(parts)}</svg>'
    )


def _trigger(draft: WorkflowDraft) -> str:
    detail = f": {draft.trigger.detail}" if draft.trigger.detail else ""
    return f"{draft.trigger.kind}{detail}"
