"""Typed async client for the Dataverse Web API (Dynamics 365), over httpx.

See :class:`DataverseClient`. Errors mix into :mod:`sync_core.model.errors` by remedy; the
``_odata`` helpers build ``$filter`` literals; ``_credentials`` makes azure-identity credentials.
"""

from sync_core.dynamics._client import DataverseClient
from sync_core.dynamics._credentials import CredentialKind, StaticTokenCredential, credential_from_settings
from sync_core.dynamics._errors import (
    AuthenticationError,
    ChangeTrackingDisabledError,
    ConflictError,
    DataverseError,
    DeltaLinkExpiredError,
    DuplicateRecordError,
    NotExecutedError,
    NotFoundError,
    PagingLoopError,
    PermissionDeniedError,
    RateLimitedError,
    TransientError,
    UnsafeLinkError,
    UnsupportedRequestError,
    ValidationError,
)
from sync_core.dynamics._models import (
    AttributeMetadata,
    BatchOperation,
    BatchResult,
    ChangePage,
    CountResult,
    EntityMetadata,
    QueryPage,
    WhoAmI,
)
from sync_core.dynamics._odata import (
    alternate_key,
    escape_like,
    format_literal,
    is_guid,
    normalize_guid,
    quote_string,
)

__all__ = [
    "AttributeMetadata",
    "AuthenticationError",
    "BatchOperation",
    "BatchResult",
    "ChangePage",
    "ChangeTrackingDisabledError",
    "ConflictError",
    "CountResult",
    "CredentialKind",
    "DataverseClient",
    "DataverseError",
    "DeltaLinkExpiredError",
    "DuplicateRecordError",
    "EntityMetadata",
    "NotExecutedError",
    "NotFoundError",
    "PagingLoopError",
    "PermissionDeniedError",
    "QueryPage",
    "RateLimitedError",
    "StaticTokenCredential",
    "TransientError",
    "UnsafeLinkError",
    "UnsupportedRequestError",
    "ValidationError",
    "WhoAmI",
    "alternate_key",
    "credential_from_settings",
    "escape_like",
    "format_literal",
    "is_guid",
    "normalize_guid",
    "quote_string",
]
