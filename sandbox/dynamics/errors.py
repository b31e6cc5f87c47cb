"""OData error bodies as Dataverse returns them (dynamics-webapi.md §10)."""

from __future__ import annotations

from typing import Any


class DataverseError(Exception):
    """An error the Web API answers with ``{"error": {"code": ..., "message": ...}}``."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


# Codes from dynamics-webapi.md §10 (hex computed there from the documented decimals).
OBJECT_DOES_NOT_EXIST = "0x80040217"
DUPLICATE_KEY = "0x80040237"
VALIDATION = "0x80044331"
REQUESTS_LIMIT = "0x80072322"
# Not in the reference: ConcurrencyVersionMismatch (register: concurrency-code).
CONCURRENCY_MISMATCH = "0x80060882"
GENERIC = "0x80060888"


def not_found(logical: str, record_id: str) -> DataverseError:
    return DataverseError(404, OBJECT_DOES_NOT_EXIST, f"{logical} With Id = {record_id} Does Not Exist")


def bad_request(message: str, code: str = GENERIC) -> DataverseError:
    return DataverseError(400, code, message)
