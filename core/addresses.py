"""The client's network address, as far as the deployment's proxies can be trusted."""

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
