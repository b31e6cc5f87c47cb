"""Which hosts a connection may name: the one rule the API, ``config apply`` and both client factories apply.

Deployed (in Azure, and anywhere local mode is not on): HTTPS on port 443, no user info, no IP
literal, a host on the service's allow-list, and every address it resolves to public. ActiveCampaign
account hosts are an operator-extensible list (AC does not promise ``api-us1.com``: the URL comes
from the account's Settings → Developer). Dynamics hosts are those of the five clouds that host
Dataverse. Local mode (``SYNC_LOCAL_AUTH=1`` outside Azure) is for the stand-ins: any http(s) host.

The rule is pure; resolving the name is the caller's, through an injectable resolver.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

Service = Literal["activecampaign", "dynamics"]
Resolver = Callable[[str], Awaitable[list[str]]]

DEFAULT_AC_HOSTS: tuple[str, ...] = ("*.api-us1.com", "*.activehosted.com")
# The clouds of the Global Discovery Service: Commercial (crm*.dynamics.com), GCC (crm9.dynamics.com),
# GCC High / USG (crm.microsoftdynamics.us), DoD (crm.appsplatform.us), China (crm.dynamics.cn).
# https://learn.microsoft.com/power-apps/developer/data-platform/discovery-service
DYNAMICS_HOSTS: tuple[str, ...] = ("*.dynamics.com", "*.crm.microsoftdynamics.us", "*.crm.appsplatform.us",
                                   "*.crm.dynamics.cn")
AC_HOSTS_SETTING = "SYNC_AC_ALLOWED_HOSTS"
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


class HostRefused(ValueError):
    """A URL the policy does not allow; ``field`` names the input, ``code`` the reason."""

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.code = code
        self.message = message


async def system_resolver(host: str) -> list[str]:
    """The addresses the system resolver gives ``host`` (raises ``OSError`` when it has none)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, 443, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def parse_host_patterns(text: str | None) -> tuple[str, ...]:
    """``*.example.com,api.example.com`` → patterns; ``None`` or blank → the default AC list."""
    items = tuple(p.strip().lower().rstrip(".") for p in (text or "").split(",") if p.strip())
    for p in items:
        if p.count("*") > 1 or ("*" in p and not p.startswith("*.")) or "/" in p or ":" in p:
            raise ValueError(f"{AC_HOSTS_SETTING}: {p!r} is not a host name or *.domain pattern")
    return items or DEFAULT_AC_HOSTS


def host_matches(host: str, pattern: str) -> bool:
    """``*.d`` matches any name ending in ``.d`` (one label or more before it); otherwise exact."""
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and len(host) > len(pattern) - 1
    return host == pattern


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def is_public_address(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_loopback)


@dataclass(frozen=True)
class HostPolicy:
    local: bool = False
    activecampaign_hosts: tuple[str, ...] = DEFAULT_AC_HOSTS
    dynamics_hosts: tuple[str, ...] = DYNAMICS_HOSTS
    resolver: Resolver = field(default=system_resolver, compare=False, repr=False)

    def allowed(self, service: Service) -> tuple[str, ...]:
        return self.activecampaign_hosts if service == "activecampaign" else self.dynamics_hosts

    def check_url(self, url: str, service: Service, field: str) -> str:
        """The URL, normalised (lower-case host, no trailing '/'), or :class:`HostRefused` naming ``field``."""
        text = url.strip().rstrip("/")
        try:
            parts = urlsplit(text)
            port = parts.port
        except ValueError:
            raise HostRefused(field, "malformed_url", "not an absolute http(s) URL") from None
        host = (parts.hostname or "").rstrip(".")
        if parts.scheme not in ("http", "https") or not host or any(c.isspace() for c in text):
            raise HostRefused(field, "malformed_url", "not an absolute http(s) URL")
        if parts.username is not None or parts.password is not None or "@" in parts.netloc:
            raise HostRefused(field, "userinfo_not_allowed", "a URL with a user name or password is not accepted")
        if parts.query or parts.fragment:
            raise HostRefused(field, "malformed_url", "the URL must have no query or fragment")
        if self.local:
            return text
        if parts.scheme != "https" or port not in (None, 443):
            raise HostRefused(field, "https_required", "only https on port 443 is accepted (http and other ports "
                              "only in local mode)")
        if _is_ip(host) or host in _LOOPBACK_NAMES:
            raise HostRefused(field, "host_not_allowed", "an IP address or loopback name is not accepted: use the "
                              "service's host name")
        if not any(host_matches(host, p) for p in self.allowed(service)):
            raise HostRefused(field, "host_not_allowed", self._not_listed(service, host))
        return text

    def _not_listed(self, service: Service, host: str) -> str:
        if service == "dynamics":
            return (f"{host} is not a Dynamics 365 host (allowed: {', '.join(self.dynamics_hosts)}); use the "
                    "environment URL from the Power Platform admin center")
        return (f"{host} is not on the ActiveCampaign host list ({', '.join(self.activecampaign_hosts)}). Use the "
                "API URL from the account's Settings → Developer; if it is on another domain, the operator adds it "
                f"to the {AC_HOSTS_SETTING} app setting (comma-separated, e.g. *.api-us1.com,*.example-ac.com)")

    def check_addresses(self, host: str, addresses: Iterable[str], field: str) -> None:
        """Every address of the host must be public (deployed only)."""
        if self.local:
            return
        found = list(addresses)
        bad = [a for a in found if not is_public_address(a)]
        if not found or bad:
            raise HostRefused(field, "host_not_public", f"{host} resolves to a private, loopback or reserved "
                              "address: refused")

    async def check(self, url: str, service: Service, field: str) -> str:
        """:meth:`check_url`, then (deployed) the host's addresses. An unresolvable host raises ``OSError``."""
        text = self.check_url(url, service, field)
        if not self.local:
            host = (urlsplit(text).hostname or "").rstrip(".")
            self.check_addresses(host, await self.resolver(host), field)
        return text
