import { useState } from "react";

// Write or edit the reply to a ticket before it is sent to the customer.
export default function ReplyForm() {
  const [body, setBody] = useState(props.body || "");

  return (
    <div className="flex flex-col gap-2 w-full" id="reply-form">
      <textarea
        aria-label="Reply to the customer"
        className="rounded-md border px-2 py-1 bg-background min-h-48"
        rows={12}
        value={body}
        onChange={(e) => setBody(e.target.value)}
      />
      <div className="flex gap-2 justify-end">
        <button className="rounded-md border px-3 py-1" onClick={() => cancelElement()}>
          Cancel
        </button>
        <button
          className="rounded-md bg-primary text-primary-foreground px-3 py-1"
          disabled={!body.trim()}
          onClick={() => submitElement({ body })}
        >
          Send reply
        </button>
      </div>
    </div>
  );
}
