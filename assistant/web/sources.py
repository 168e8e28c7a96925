"""Cited documents as chips that each open one document (``public/elements/Sources.jsx``)."""

from __future__ import annotations

from typing import Any

import chainlit as cl

from assistant.schemas import Source
from assistant.web import runtime
from knowledge.library import split_front_matter


def source_chips(sources: list[Source]) -> Any:
    """Return the chips for ``sources``, each carrying its document's text.

    Chips rather than side elements: Chainlit opens its side panel by itself when side
    elements arrive, titled after the last one and showing all of them.
    """
    library = runtime.current().services.settings.library
    props = []
    for source in sources:
        path = library / source.doc
        body = split_front_matter(path.read_text())[1] if path.exists() else source.title
        props.append({"doc": source.doc, "title": source.title, "body": body})
    return cl.CustomElement(name="Sources", props={"sources": props})
