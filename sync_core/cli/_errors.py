"""Exit codes and the one translation of expected failures into a short message (never a traceback)."""

from __future__ import annotations

import re
from enum import IntEnum

from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ServiceRequestError

from sync_core.model.codes import Service
from sync_core.model.errors import (
    AuthenticationError,
    ConfigurationError,
    PermissionDeniedError,
    PlanLimitError,
    RetriableError,
    SyncError,
)
from sync_core.settings import SettingMissing


class Exit(IntEnum):
    """The command line's exit codes (README's table is ``MEANINGS``, checked by a test)."""

    OK = 0
    FAILED = 1
    USAGE = 2
    BUSY = 3
    NOT_FOUND = 4
    NOT_CONFIGURED = 5
    UNREACHABLE = 6
    REFUSED = 7
    INTERRUPTED = 130


MEANINGS: dict[Exit, str] = {
    Exit.OK: "done",
    Exit.FAILED: "the work ran and did not succeed (the message and `status` say why)",
    Exit.USAGE: "bad input: an argument, a file that is missing or not valid, a refused configuration",
    Exit.BUSY: "another pass holds the connection's lease",
    Exit.NOT_FOUND: "no such connection, record or user",
    Exit.NOT_CONFIGURED: "a setting or a stored secret is missing (the message names it)",
    Exit.UNREACHABLE: "storage, ActiveCampaign or Dynamics did not answer, or answered with a server error",
    Exit.REFUSED: "ActiveCampaign, Dynamics or storage refused the credentials, or they lack a right",
    Exit.INTERRUPTED: "interrupted (Ctrl-C)",
}


class CliError(Exception):
    """An expected failure: ``message`` is what the operator reads, ``code`` the exit code."""

    def __init__(self, message: str, code: Exit) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


SERVICE_NAMES = {Service.ACTIVECAMPAIGN: "ActiveCampaign", Service.DYNAMICS: "Dynamics"}


def _remedy(error: SyncError, cid: str | None) -> str:
    apply = f"`python -m sync_core config apply <file> --secrets <secrets>` for {cid or 'the connection'}"
    if isinstance(error, AuthenticationError):
        return f"check the key or secret and store it again with {apply}"
    if isinstance(error, PermissionDeniedError):
        return "give the credentials' user the right the call needs"
    if isinstance(error, PlanLimitError):
        return "turn the entity off in the configuration, or upgrade the plan"
    if isinstance(error, RetriableError):
        return "check that the host is up and reachable from here, then run the command again"
    if "key" in error.message or "secret" in error.message:
        return f"store it with {apply}"
    return "fix the connection's configuration and apply it again"


def explain(error: BaseException, *, urls: dict[Service, str] | None = None, cid: str | None = None) -> CliError | None:
    """The message and exit code of an expected failure; ``None`` for a bug (which keeps its traceback)."""
    if isinstance(error, CliError):
        return error
    if isinstance(error, SettingMissing):
        return CliError(str(error), Exit.NOT_CONFIGURED)
    if isinstance(error, SyncError):
        return _sync_error(error, urls or {}, cid)
    if isinstance(error, ClientAuthenticationError):
        return CliError(f"storage refused the credentials: {_first_line(error)}; check the storage settings",
                        Exit.REFUSED)
    if isinstance(error, ServiceRequestError):
        return CliError(f"storage cannot be reached ({_first_line(error)}): is Azurite running? "
                        "(`python -m sync_core local up`)", Exit.UNREACHABLE)
    if isinstance(error, HttpResponseError):
        return CliError(f"storage answered {error.status_code}: {_first_line(error)}", Exit.UNREACHABLE)
    if isinstance(error, LookupError):
        return CliError(str(error).strip("'\""), Exit.NOT_FOUND)
    if isinstance(error, OSError) and error.filename is not None:
        return CliError(f"{error.filename}: {error.strerror or error}", Exit.USAGE)
    return None


def _sync_error(error: SyncError, urls: dict[Service, str], cid: str | None) -> CliError:
    system = SERVICE_NAMES.get(error.service, "") if error.service else ""
    url = urls.get(error.service) if error.service else None
    where = f"{system} at {url}: " if url else f"{system}: " if error.service else ""
    text = error.message.removeprefix(system).lstrip(" :") if error.message.startswith(system) else error.message
    code = (Exit.REFUSED if isinstance(error, AuthenticationError | PermissionDeniedError)
            else Exit.UNREACHABLE if isinstance(error, RetriableError)
            else Exit.NOT_CONFIGURED if isinstance(error, ConfigurationError) else Exit.FAILED)
    return CliError(f"{where}{text}; {_remedy(error, cid)}", code)


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "message", None) or error)
    return text.splitlines()[0] if text else type(error).__name__


_PASS_FAILURES = {"AuthenticationError": Exit.REFUSED, "PermissionDeniedError": Exit.REFUSED,
                  "TransientError": Exit.UNREACHABLE, "RateLimitedError": Exit.UNREACHABLE,
                  "ConfigurationError": Exit.NOT_CONFIGURED}
_PASS_REMEDIES = {Exit.REFUSED: "check the key or secret and store it again with `python -m sync_core config "
                                "apply <file> --secrets <secrets>`",
                  Exit.UNREACHABLE: "check that the host is up and reachable from here, then sync again",
                  Exit.NOT_CONFIGURED: "fix the connection's configuration and apply it again"}


_PASS_MESSAGE = re.compile(r"^(?:(?P<entity>[a-z]+): )?(?P<kind>[A-Za-z]+Error): (?P<text>.*)$", re.DOTALL)
_SYSTEM_WORDS = {Service.ACTIVECAMPAIGN: ("ActiveCampaign",), Service.DYNAMICS: ("Dynamics", "Dataverse")}


def pass_failure(message: str, urls: dict[Service, str]) -> CliError:
    """A failed pass as the engine recorded it on the run (``[entity: ]<ErrorType>: <message>``): the system
    and its URL, what it said, and the remedy."""
    m = _PASS_MESSAGE.match(message)
    kind, text, entity = (m["kind"], m["text"], m["entity"]) if m else ("", message, None)
    code = _PASS_FAILURES.get(kind, Exit.FAILED)
    service = next((s for s, words in _SYSTEM_WORDS.items() if any(w in text for w in words)), None)
    if service is not None and service in urls:
        name = SERVICE_NAMES[service]
        text = f"{name} at {urls[service]}: {text.removeprefix(name).lstrip(' :')}"
    if entity:
        text += f" (syncing {entity})"
    remedy = _PASS_REMEDIES.get(code)
    return CliError(f"{text}; {remedy}" if remedy else text, code)
