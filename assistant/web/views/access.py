"""Who is looking at a page: the chat's login cookie, read again for every request.

The pages share the chat's sign-in: Chainlit keeps a signed JWT in the ``access_token``
cookie (path ``/``, ``SameSite=Lax``, HttpOnly). It is verified with the same secret, and
the user's roles are read from the users table on every request, so a role taken away or a
user removed counts at once (the token's copy of the roles is never trusted). A page asked
for without a valid cookie redirects to the chat's sign-in; a JSON call answers 401.

State-changing calls are JSON POSTs from the pages' own script. They are refused unless
the browser says they come from this server's pages (``Origin``, else ``Referer``, equal to
the server's own address or ``FLOWDRAFT_PUBLIC_URL``) and carry a JSON content type, which
a form on another site cannot send without a CORS preflight that nobody answers. With
``SameSite=Lax`` the cookie is not even sent on another site's POST: three locks, any one
of which stops cross-site request forgery.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from fastapi import HTTPException
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from assistant.db.users import Directory

LOGIN_PATH = "/chat/login"


@dataclass(frozen=True)
class Viewer:
    """The signed-in user and the roles the users table gives them now."""

    name: str
    roles: list[str] = field(default_factory=list)

    @property
    def is_admin(self) -> bool:
        """Tell whether the user operates the server (sees the engine's own UI)."""
        return "admin" in self.roles


class NotSignedIn(HTTPException):
    """Raised for a request without a valid sign-in; pages redirect, JSON calls get 401."""


def signed_in_name(request: Request) -> str | None:
    """Return the user name the request's chat cookie proves, or None."""
    # Imported here: chainlit reads its config from the app root when first imported,
    # which ``create_app`` sets first.
    from chainlit.auth.cookie import get_token_from_cookies
    from chainlit.auth.jwt import decode_jwt

    token = get_token_from_cookies(dict(request.cookies))
    if not token:
        return None
    try:
        return decode_jwt(token).identifier
    except Exception:  # any bad, forged or expired token is simply not a sign-in
        return None


async def viewer_of(request: Request, directory: Directory, *, page: bool) -> Viewer:
    """Return who is signed in, or raise ``NotSignedIn`` (a redirect when ``page``)."""
    name = signed_in_name(request)
    roles = await run_in_threadpool(directory.roles_of, name) if name else None
    if name is None or roles is None:
        if page:
            raise NotSignedIn(303, "sign in first", {"Location": LOGIN_PATH})
        raise NotSignedIn(401, "sign in first: open /chat/ and sign in")
    return Viewer(name, list(roles))


def check_same_origin(request: Request, public_url: str = "") -> None:
    """Refuse (403) a state-changing request that does not come from this server's pages."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise HTTPException(415, "send the change as JSON from the Flowdraft pages")
    claimed = request.headers.get("origin") or request.headers.get("referer") or ""
    parts = urlsplit(claimed)
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    own = {f"{request.url.scheme}://{request.headers.get('host', '')}".lower()}
    if public_url:
        public = urlsplit(public_url)
        own.add(f"{public.scheme}://{public.netloc}".lower())
    if origin not in own:
        raise HTTPException(403, "refused: this change did not come from the Flowdraft pages")
