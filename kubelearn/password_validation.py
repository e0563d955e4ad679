"""A password validator Django does not ship: a longest password.

The API's account writes take a password of at most PASSWORD_MAX_CHARS characters to confirm
who is asking (kubelearn.accounts); the web's sign-up took 100,000, and its account could then
never change its address or be deleted over the API (a hostile-input sweep). Every new
password is held to the same bound, wherever it is set (sign-up, reset, change, the admin).
"""

from __future__ import annotations

from typing import Any, Final

from django.core.exceptions import ValidationError

PASSWORD_MAX_CHARS: Final = 128


class MaximumLengthValidator:
    def __init__(self, max_length: int = PASSWORD_MAX_CHARS) -> None:
        self.max_length = max_length

    def validate(self, password: str, user: Any = None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                f"This password is too long: use at most {self.max_length} characters.",
                code="password_too_long",
                params={"max_length": self.max_length},
            )

    def get_help_text(self) -> str:
        return f"Your password can be at most {self.max_length} characters long."
