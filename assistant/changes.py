"""Say in words what changed from one version of a workflow to the next.

Steps are renumbered on every edit, so a step is recognised by what it is: the same kind
and title first, then the same kind and connector nearest to where it was.

Example:
    >>> from assistant.schemas import Step, WorkflowDraft
    >>> v1 = WorkflowDraft(title="T", goal="g", steps=[Step(id="s1", title="Post", kind="action",
    ...     connector="slack", operation="post_message", params={"channel": "#finance"})]).sealed()
    >>> v2 = v1.next_version(steps=[v1.steps[0].model_copy(update={"params": {"channel": "#ops"}})])
    >>> describe_changes(v1, v2)
    ['step 1 (Post): channel #finance → #ops']
"""

from __future__ import annotations

from assistant.review import setting_of
from assistant.schemas import Step, WorkflowDraft


def pair_steps(old: list[Step], new: list[Step]) -> dict[int, int]:
    """Return, for each new step index that existed before, the old step index it was."""
    left = list(range(len(old)))
    pairs: dict[int, int] = {}
    for j, step in enumerate(new):
        same = next(
            (i for i in left if (old[i].kind, old[i].title) == (step.kind, step.title)), None
        )
        if same is not None:
            pairs[j] = same
            left.remove(same)
    for j, step in enumerate(new):
        if j in pairs:
            continue
        alike = [i for i in left if (old[i].kind, old[i].connector) == (step.kind, step.connector)]
        if alike:
            nearest = min(alike, key=lambda i: abs(i - j))
            pairs[j] = nearest
            left.remove(nearest)
    return pairs


def step_changes(number: int, before: Step, after: Step) -> list[str]:
    """Return what changed on one step, shown as step ``number``."""
    name = f"step {number} ({after.title})"
    changes = []
    if before.title != after.title:
        changes.append(f"step {number} renamed: “{before.title}” → “{after.title}”")
    was, now = setting_of(before), setting_of(after)
    if was and now and was[1] != now[1]:
        changes.append(f"{name}: {now[0]} {was[1] or '(none)'} → {now[1] or '(none)'}")
    elif before.params != after.params:
        changes.append(f"{name}: its settings changed")
    return changes


def describe_changes(old: WorkflowDraft, new: WorkflowDraft) -> list[str]:
    """Return one line per change from ``old`` to ``new``, in the new version's numbering."""
    changes = []
    if old.title != new.title:
        changes.append(f"title: “{old.title}” → “{new.title}”")
    if old.trigger != new.trigger:
        changes.append(
            f"trigger: {old.trigger.kind} ({old.trigger.detail}) → "
            f"{new.trigger.kind} ({new.trigger.detail})"
        )
    pairs = pair_steps(old.steps, new.steps)
    # A step moved when its place among the steps both versions have is not the same.
    kept_old = sorted(pairs.values())
    for rank, j in enumerate(sorted(pairs)):
        i = pairs[j]
        if kept_old.index(i) != rank:
            changes.append(f"step {j + 1} ({new.steps[j].title}) moved: it was step {i + 1}")
        changes += step_changes(j + 1, old.steps[i], new.steps[j])
    for j, step in enumerate(new.steps):
        if j not in pairs:
            changes.append(f"step {j + 1} added: {step.title}")
    gone = sorted(set(range(len(old.steps))) - set(pairs.values()))
    changes += [f"removed: {old.steps[i].title} (was step {i + 1})" for i in gone]
    return changes
