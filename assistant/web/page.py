"""The chat page's HTML, with nothing fetched from outside the server.

Chainlit's page links Google Fonts (with preconnects to its hosts) and KaTeX's stylesheet
from a CDN: every visit tells those hosts who is reading, and the page waits on them where
there is no internet. Flowdraft has LaTeX off and uses the system's sans-serif font, so
those links are dropped from the page Chainlit serves.

Example:
    >>> print(local_only('<link rel="preconnect" href="https://fonts.gstatic.com" crossorigin />'
    ...                  '<link href="/assets/x.css" rel="stylesheet">'))
    <link href="/assets/x.css" rel="stylesheet">
"""

from __future__ import annotations

import re
from collections.abc import Callable

import chainlit.server

# A <link> tag (possibly across lines) whose href points at another host.
_EXTERNAL_LINK = re.compile(r"<link\b[^>]*\bhref=\"(?:https?:)?//[^\"]*\"[^>]*>\s*", re.DOTALL)


def local_only(html: str) -> str:
    """Return ``html`` without the ``<link>`` tags that load from other hosts."""
    return _EXTERNAL_LINK.sub("", html)


def serve_local_page() -> None:
    """Make Chainlit serve its page without links to other hosts (once per process)."""
    template: Callable[[str], str] = chainlit.server.get_html_template
    if getattr(template, "local_only", False):
        return

    def local_template(root_path: str) -> str:
        return local_only(template(root_path))

    local_template.local_only = True  # type: ignore[attr-defined]
    # Chainlit looks the function up at each request, so replacing it here is enough.
    chainlit.server.get_html_template = local_template
