"""AC's error bodies (reference §13); handlers raise ``ACError`` and the route wrapper renders it."""

from __future__ import annotations

from typing import Any


class ACError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}: {body!r}")
        self.status = status
        self.body = body


def jsonapi(status: int, title: str, code: str, pointer: str | None = None, detail: str = "") -> ACError:
    """Shape 1: contacts, accounts, accountContacts, fields."""
    err: dict[str, Any] = {"title": title, "detail": detail, "code": code}
    if pointer is not None:
        err["source"] = {"pointer": pointer}
    return ACError(status, {"errors": [err]})


def with_status(status: int, title: str, detail: str) -> ACError:
    """Shape 2: ``{"errors":[{"status":403,"title":"Forbidden","detail":...}]}``."""
    return ACError(status, {"errors": [{"status": status, "title": title, "detail": detail}]})


def object_error(status: int, title: str, detail: str, pointer: str) -> ACError:
    """Shape 3: custom objects (``source: {type, value}``)."""
    return ACError(status, {"errors": [{"title": title, "detail": detail,
                                        "source": {"type": "pointer", "value": pointer}}]})


def no_result(model: str, ident: object, *, status: int = 404) -> ACError:
    """Shape 4: ``{"message":"No Result found for Subscriber with id 1"}``."""
    return ACError(status, {"message": f"No Result found for {model} with id {ident}"})


def message(status: int, text: str) -> ACError:
    return ACError(status, {"message": text})


AUTH_FAILED_BODY = {
    "message": "The request could not be authenticated or the authenticated user is not authorized to access "
    "the requested resource."
}

PLAN_LIMIT_BODIES: dict[int, dict[str, Any]] = {
    403: {"errors": [{"status": 403, "title": "Forbidden",
                      "detail": "Your plan does not include access to this feature."}]},
    404: {"message": "Not Found"},
    402: {"errors": [{"status": 402, "title": "Payment Required",
                      "detail": "Upgrade your plan to access this feature."}]},
}
