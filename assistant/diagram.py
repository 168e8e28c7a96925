"""Draw a workflow as an SVG flowchart: trigger, then each step, coloured by kind and risk."""

from __future__ import annotations

from html import escape

from assistant.schemas import Step, WorkflowDraft

WIDTH = 640
BOX_W = 520
BOX_H = 58
GAP = 26
LEFT = (WIDTH - BOX_W) // 2
FILL = {
    "trigger": "#eef2ff",
    "action": "#e0f2fe",
    "approval": "#fef3c7",
    "condition": "#f3e8ff",
    "human_task": "#dcfce7",
}
STROKE = {"low": "#64748b", "medium": "#d97706", "high": "#dc2626"}
ICON = {"action": "▶", "approval": "✔", "condition": "◆", "human_task": "👤"}


def subtitle(step: Step) -> str:
    """Return the second line of a step's box."""
    if step.blocked_reason:
        return "BLOCKED by policy"
    if step.kind == "action":
        where = step.params.get("channel") or step.params.get("to") or step.params.get("url") or ""
        if isinstance(where, list):
            where = ", ".join(str(w) for w in where)
        who = f" · approver: {step.approver_role}" if step.approver_role else ""
        return f"{step.connector}.{step.operation} {where}".strip()[:60] + who
    if step.kind == "condition":
        return f"if {step.condition}"[:70]
    if step.kind == "approval":
        return f"approval by {step.approver_role}"
    return f"task for {step.approver_role or 'a person'}"


def box(y: int, fill: str, stroke: str, title: str, sub: str, dashed: bool = False) -> str:
    """Return one rounded box with two lines of text."""
    dash = ' stroke-dasharray="6 4"' if dashed else ""
    return (
        f'<rect x="{LEFT}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="10" fill="{fill}" '
        f'stroke="{stroke}" stroke-width="2"{dash}/>'
        f'<text x="{LEFT + 16}" y="{y + 24}" font-size="15" font-weight="600" fill="#0f172a">'
        f"{escape(title[:64])}</text>"
        f'<text x="{LEFT + 16}" y="{y + 45}" font-size="12" fill="#475569">{escape(sub)}</text>'
    )


def arrow(y_from: int, y_to: int) -> str:
    """Return a downward arrow between two boxes."""
    x = WIDTH // 2
    return (
        f'<line x1="{x}" y1="{y_from}" x2="{x}" y2="{y_to - 6}" stroke="#94a3b8" stroke-width="2"/>'
        f'<polygon points="{x - 6},{y_to - 8} {x + 6},{y_to - 8} {x},{y_to}" fill="#94a3b8"/>'
    )


def workflow_svg(draft: WorkflowDraft) -> str:
    """Return the draft as a standalone SVG document.

    Example:
        >>> from assistant.schemas import Step, WorkflowDraft
        >>> svg = workflow_svg(WorkflowDraft(title="T", goal="g", steps=[
        ...     Step(id="s1", title="Approve", kind="approval", approver_role="cfo")]).sealed())
        >>> svg.startswith("<svg") and "Approve" in svg
        True
    """
    parts: list[str] = []
    y = 56
    parts.append(
        f'<text x="{WIDTH // 2}" y="32" font-size="18" font-weight="700" text-anchor="middle" '
        f'fill="#0f172a">{escape(draft.title[:60])} (v{draft.version})</text>'
    )
    trigger = f"{draft.trigger.kind}: {draft.trigger.detail}"[:80]
    parts.append(box(y, FILL["trigger"], "#6366f1", "Trigger", trigger))
    for number, step in enumerate(draft.steps, 1):
        parts.append(arrow(y + BOX_H, y + BOX_H + GAP))
        y += BOX_H + GAP
        stroke = STROKE["high"] if step.blocked_reason else STROKE[step.risk]
        title = f"{number}. {ICON[step.kind]} {step.title}"
        parts.append(
            box(y, FILL[step.kind], stroke, title, subtitle(step), dashed=bool(step.blocked_reason))
        )
    height = y + BOX_H + 24
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="Inter, Helvetica, Arial, sans-serif">'
        f'<rect width="100%" height="100%" fill="#ffffff"/>{"".join(parts)}</svg>'
    )
