import { useSetRecoilState } from "recoil";
import { sideViewState } from "@chainlit/react-client";
import { FileText } from "lucide-react";

// A draft's sources as chips; a chip opens its one document in Chainlit's side panel.
//
// Not cl.Text elements with display="side": since Chainlit 2.11 the chat opens the side
// panel by itself whenever such elements arrive, titled after the last one and showing
// all of them. Setting the panel from a click shows exactly the document clicked.
export default function Sources() {
  const setSideView = useSetRecoilState(sideViewState);

  const open = (source) =>
    setSideView({
      title: source.doc,
      elements: [
        {
          id: `source-${source.doc}`,
          type: "text",
          name: source.doc,
          display: "side",
          url: `data:text/markdown;charset=utf-8,${encodeURIComponent(source.body)}`,
        },
      ],
    });

  return (
    <div className="flex flex-wrap items-center gap-2" id="draft-sources">
      <span className="text-sm text-muted-foreground">Sources:</span>
      {props.sources.map((source) => (
        <button
          key={source.doc}
          title={source.title}
          className="flex items-center gap-1 rounded-md border px-2 py-0.5 text-sm hover:bg-accent"
          onClick={() => open(source)}
        >
          <FileText className="h-3.5 w-3.5" />
          {source.doc}
        </button>
      ))}
    </div>
  );
}
