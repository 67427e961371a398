"""Web origins named in the environment: the clinic's own sites.

Each origin goes verbatim into a Content-Security-Policy (frame-ancestors) and into the
CORS allow list, so only `scheme://host[:port]` passes: a path, a wildcard, a space or
a semicolon would widen or break the policy, and is refused before the process starts.
"""

import re

from django.core.exceptions import ImproperlyConfigured

# A host name of letters, digits and hyphens in dot-separated labels (an IDN in its
# xn-- form), or an IP address; then an optional port.
_ORIGIN = re.compile(
    r"(?P<scheme>https?)://"
    r"(?P<host>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*"
    r"|\[[0-9a-f:.]+\])"
    r"(?::(?P<port>[0-9]{1,5}))?"
)
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def origins_parse(name: str, values: list[str]) -> list[str]:
    """The origins in `values`, lower-cased and without a default port, in order.

    Raises ImproperlyConfigured naming the setting `name` and the first bad value.
    """
    origins = []
    for value in values:
        match = _ORIGIN.fullmatch(value.strip().lower())
        if match is None or not 0 < int(match["port"] or "1") < 65536:
            raise ImproperlyConfigured(
                f"{name} takes origins like https://www.clinic.example (a scheme, "
                "a host and an optional port), comma-separated; "
                f"{value!r} is not one: {_reason(value)}"
            )
        port = match["port"]
        if port is None or port == _DEFAULT_PORTS[match["scheme"]]:
            origins.append(f"{match['scheme']}://{match['host']}")
        else:
            origins.append(f"{match['scheme']}://{match['host']}:{port}")
    return origins


def _reason(value: str) -> str:
    if "*" in value:
        return "no wildcard; list each site that may frame the pages."
    scheme, _, rest = value.partition("://")
    if scheme.lower() not in _DEFAULT_PORTS or not rest:
        return "it must start with https:// (or http:// for a local test)."
    if any(mark in rest for mark in "/?#"):
        return "no path, query or fragment; write only the site's address."
    return "the host or the port is not valid."
