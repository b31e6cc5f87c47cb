"""The ActiveCampaign client: every API group on one object sharing one budget and one HTTP client."""

from __future__ import annotations

from sync_core.activecampaign._accounts import AccountsApi
from sync_core.activecampaign._bulk import BulkApi
from sync_core.activecampaign._contacts import ContactsApi
from sync_core.activecampaign._custom_objects import CustomObjectsApi
from sync_core.activecampaign._marketing import MarketingApi


class ActiveCampaignClient(ContactsApi, AccountsApi, BulkApi, CustomObjectsApi, MarketingApi):
    """Typed async client for AC API v3 (plus v1 ``campaign_send``).

    ``ActiveCampaignClient(api_url, api_key, budget=..., clock=..., transport=..., guard=..., in_flight=...)``:
    ``api_url`` is the URL from the account's Developer settings, used as given (``/api/3/`` is
    appended). Every request goes through the ``sync_core.http`` pipeline: it spends ``budget``
    (5/s by default; pass the connection's shared budget), asks ``guard`` first and is counted in
    :attr:`calls` by kind. 429/503 are retried after ``Retry-After`` (every holder of the budget
    pauses); 5xx and network errors with capped exponential backoff; a host that does not answer
    fails after three connect attempts. Errors subclass the model's tree (see ``_errors``) and
    carry ``service`` and ``error_code``. Use ``async with`` or :meth:`aclose`.
    """

    async def __aenter__(self) -> ActiveCampaignClient:
        return self
