import { useState } from "react";

// Edit a draft's steps: rename, remove, or describe a change in plain words.
export default function StepsForm() {
  const [steps, setSteps] = useState(props.steps.map((s) => ({ ...s, keep: true })));
  const [instruction, setInstruction] = useState("");

  const update = (index, changes) =>
    setSteps(steps.map((s, i) => (i === index ? { ...s, ...changes } : s)));

  const save = () =>
    submitElement({
      steps: steps.filter((s) => s.keep).map(({ keep, ...s }) => s),
      instruction,
    });

  return (
    <div className="flex flex-col gap-2 w-full" id="steps-form">
      {steps.map((step, index) => (
        <div key={step.id} className="flex items-center gap-2">
          <span className="w-6 text-sm text-muted-foreground">{index + 1}</span>
          <input
            aria-label={`Step ${index + 1} title`}
            className="flex-1 rounded-md border px-2 py-1 bg-background"
            value={step.title}
            onChange={(e) => update(index, { title: e.target.value })}
          />
          <span className="text-xs text-muted-foreground w-28">{step.kind}</span>
          <label className="text-sm flex items-center gap-1">
            <input
              type="checkbox"
              aria-label={`Remove step ${index + 1}`}
              checked={!step.keep}
              onChange={(e) => update(index, { keep: !e.target.checked })}
            />
            remove
          </label>
        </div>
      ))}
      <input
        aria-label="Change in plain words"
        className="rounded-md border px-2 py-1 bg-background"
        placeholder="Or describe a change, e.g. send it to #ops instead"
        value={instruction}
        onChange={(e) => setInstruction(e.target.value)}
      />
      <div className="flex gap-2 justify-end">
        <button className="rounded-md border px-3 py-1" onClick={() => cancelElement()}>
          Cancel
        </button>
        <button className="rounded-md bg-primary text-primary-foreground px-3 py-1" onClick={save}>
          Save as new version
        </button>
      </div>
    </div>
  );
}
