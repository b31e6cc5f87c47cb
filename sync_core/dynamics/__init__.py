"""Typed async client for the Dataverse Web API (Dynamics 365), over httpx.

See :class:`DataverseClient`. Errors mix into :mod:`sync_core.model.errors` by remedy; the
``_odata`` helpers build ``$filter`` literals; ``_credentials`` makes azure-identity credentials.
"""

from sync_core.dynamics._client import DataverseClient
from sync_core.dynamics._credentials import CredentialKind, SignIn, StaticTokenCredential, credential_from_settings
from sync_core.dynamics._criteria import compile_criteria
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
from sync_core.dynamics._filter import (
    BoolOp,
    Call,
    Compare,
    Filter,
    Node,
    Not,
    ODataSyntaxError,
    like_regex,
    parse_filter,
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
    "BoolOp",
    "Call",
    "ChangePage",
    "ChangeTrackingDisabledError",
    "Compare",
    "ConflictError",
    "CountResult",
    "CredentialKind",
    "DataverseClient",
    "DataverseError",
    "DeltaLinkExpiredError",
    "DuplicateRecordError",
    "EntityMetadata",
    "Filter",
    "Node",
    "Not",
    "NotExecutedError",
    "NotFoundError",
    "ODataSyntaxError",
    "PagingLoopError",
    "PermissionDeniedError",
    "QueryPage",
    "RateLimitedError",
    "SignIn",
    "StaticTokenCredential",
    "TransientError",
    "UnsafeLinkError",
    "UnsupportedRequestError",
    "ValidationError",
    "WhoAmI",
    "alternate_key",
    "compile_criteria",
    "credential_from_settings",
    "escape_like",
    "format_literal",
    "is_guid",
    "like_regex",
    "normalize_guid",
    "parse_filter",
    "quote_string",
]
