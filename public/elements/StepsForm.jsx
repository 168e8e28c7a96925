import { useState } from "react";

// Edit a draft's steps: rename, change where an action goes, a threshold or a role,
// move up or down, remove; or describe a change in plain words.
export default function StepsForm() {
  const [steps, setSteps] = useState(
    props.steps.map((s) => ({ ...s, keep: true, value: s.setting ? s.setting.value : "" }))
  );
  const [instruction, setInstruction] = useState("");

  const update = (index, changes) =>
    setSteps(steps.map((s, i) => (i === index ? { ...s, ...changes } : s)));

  const move = (index, by) => {
    const to = index + by;
    if (to < 0 || to >= steps.length) return;
    const next = [...steps];
    [next[index], next[to]] = [next[to], next[index]];
    setSteps(next);
  };

  const save = () =>
    submitElement({
      steps: steps
        .filter((s) => s.keep)
        .map((s) => (s.setting ? { id: s.id, title: s.title, setting: s.value } : { id: s.id, title: s.title })),
      instruction,
    });

  const cell = "rounded-md border px-2 py-1 bg-background w-full";
  return (
    <div className="flex flex-col gap-3 w-full" id="steps-form">
      <div
        className="grid items-center gap-x-2 gap-y-2 text-sm"
        style={{ gridTemplateColumns: "2rem minmax(12rem, 2fr) 6.5rem minmax(10rem, 1.5fr) auto auto" }}
      >
        <span className="text-xs text-muted-foreground">step</span>
        <span className="text-xs text-muted-foreground">title</span>
        <span className="text-xs text-muted-foreground">setting</span>
        <span className="text-xs text-muted-foreground">value</span>
        <span className="text-xs text-muted-foreground">order</span>
        <span className="text-xs text-muted-foreground">remove</span>
        {steps.map((step, index) => (
          <div key={step.id} style={{ display: "contents" }}>
            <span className={step.keep ? "" : "line-through text-muted-foreground"}>{index + 1}</span>
            <input
              aria-label={`Step ${index + 1} title`}
              className={cell}
              value={step.title}
              onChange={(e) => update(index, { title: e.target.value })}
            />
            <span className="text-xs text-muted-foreground">
              {step.setting ? step.setting.label : step.kind}
            </span>
            {step.setting ? (
              <input
                aria-label={`Step ${index + 1} ${step.setting.label}`}
                className={cell}
                placeholder={step.setting.hint}
                value={step.value}
                onChange={(e) => update(index, { value: e.target.value })}
              />
            ) : (
              <span />
            )}
            <span className="flex gap-1">
              <button
                className="rounded-md border px-2"
                aria-label={`Move step ${index + 1} up`}
                disabled={index === 0}
                onClick={() => move(index, -1)}
              >
                ↑
              </button>
              <button
                className="rounded-md border px-2"
                aria-label={`Move step ${index + 1} down`}
                disabled={index === steps.length - 1}
                onClick={() => move(index, 1)}
              >
                ↓
              </button>
            </span>
            <input
              type="checkbox"
              aria-label={`Remove step ${index + 1}`}
              checked={!step.keep}
              onChange={(e) => update(index, { keep: !e.target.checked })}
            />
          </div>
        ))}
      </div>
      <input
        aria-label="Change in plain words"
        className={cell}
        placeholder="Or describe a change, e.g. send it to #ops instead"
        value={instruction}
        onChange={(e) => setInstruction(e.target.value)}
      />
      <div className="flex gap-2 justify-end">
        <button className="rounded-md border px-3 py-1" onClick={() => cancelElement()}>
          Cancel
        </button>
        <button className="rounded-md bg-primary text-primary-foreground px-3 py-1" onClick={save}>
          Save as v{props.version + 1}
        </button>
      </div>
    </div>
  );
}
