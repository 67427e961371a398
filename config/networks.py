"""Network addresses named in the environment: who may read /metrics unsigned."""

import ipaddress

from django.core.exceptions import ImproperlyConfigured

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks_parse(name: str, values: list[str]) -> tuple[Network, ...]:
    """The addresses ("10.0.0.5") and networks ("10.1.0.0/16") in `values`.

    Raises ImproperlyConfigured naming the setting `name` and the first bad value,
    a network with host bits set included ("10.1.2.3/16" could mean either).
    """
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip()))
        except ValueError as error:
            raise ImproperlyConfigured(
                f"{name} takes IP addresses and networks like 10.0.0.5 or "
                f"10.1.0.0/16, comma-separated; {value!r} is not one: {error}"
            ) from None
    return tuple(networks)


def address_in(address: str, networks: tuple[Network, ...]) -> bool:
    """Whether `address` (REMOTE_ADDR) is in one of `networks`; never for a value
    that is not an IP address."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    # A server listening on IPv6 sees an IPv4 client as ::ffff:10.0.0.5.
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    candidates = [ip] if mapped is None else [ip, mapped]
    return any(one in network for one in candidates for network in networks)
