"""The API's last authentication class (a module of its own: DRF imports it while its views
load, so it imports nothing that imports them)."""

from __future__ import annotations

from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request


class RefuseOtherAuthorization(BaseAuthentication):
    """Last of the authentication classes: a request whose Authorization header none of the
    others took (``Basic …``, ``Bearer …``) is a 401 that says how to authenticate, not an
    anonymous request. A curator's ``curl -u`` read an empty list of pending resources, and
    a wrong password there answered 200."""

    def authenticate(self, request: Request) -> None:
        words = get_authorization_header(request).split()
        if not words:
            return None
        how = (
            "Send “Authorization: Token <your token>” (the word Token, a space, the token); "
            "POST your username and password to /api/auth/token/ for one."
        )
        if len(words) == 1:
            # One word is a scheme without credentials or, likelier, a token without its
            # scheme: not repeated back, as a walk-through's bare token was (half of it, in
            # an answer that proxies log).
            raise AuthenticationFailed(f"The Authorization header needs a scheme. {how}")
        scheme = words[0].decode("latin-1")[:20]
        raise AuthenticationFailed(f"This API does not take “{scheme}” credentials. {how}")

    def authenticate_header(self, request: Request) -> str:
        return "Token"
