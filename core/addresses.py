"""The client's network address, as far as the deployment's proxies can be trusted,
and what limits keyed on it may keep of it."""

import hashlib
import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The address that made the request.

    Behind TRUSTED_PROXY_COUNT proxies, each appending to X-Forwarded-For, the client
    is that many entries from the right: entries further left are whatever the client
    chose to send, so they are never trusted.
    """
    proxies: int = settings.TRUSTED_PROXY_COUNT
    remote = request.META.get("REMOTE_ADDR", "")
    if proxies <= 0:
        return str(remote)
    forwarded = [
        part.strip()
        for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if part.strip()
    ]
    if len(forwarded) < proxies:
        return str(remote)
    return str(forwarded[-proxies])


def address_network(address: str) -> str:
    """The part of an address one holder controls: an IPv6 address's /64 (its
    holder has all of it), an IPv4 address whole."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def keyed_digest(scope: str, value: str) -> str:
    """What a cache key or a database lock knows of `value` (an address, an email):
    an HMAC under the SECRET_KEY, so the cache holds none of them."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{scope}:{value}".encode(), hashlib.sha256).hexdigest()[:32]
