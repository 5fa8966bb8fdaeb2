"""Base URL checks: https only, except plain http to this machine (local gateways and tests)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit, urlunsplit


def is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(url: str) -> str:
    """The URL normalised (lower-case scheme and host, no trailing slash); ``ValueError`` if it is not allowed."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port  # raises on a bad port
    except ValueError:
        raise ValueError(f"{text!r} is not a valid URL.") from None
    host = (parts.hostname or "").lower()
    scheme = parts.scheme.lower()
    if not host or scheme not in ("https", "http"):
        raise ValueError(f"{text!r} is not a valid base URL: use https://host[/path].")
    if parts.username is not None or parts.password is not None:
        raise ValueError("A base URL must not contain a user name or password; the key goes in the keychain.")
    if parts.query or parts.fragment:
        raise ValueError("A base URL must not contain a query (?...) or fragment (#...).")
    if scheme == "http" and not is_loopback(host):
        raise ValueError(
            f"{text!r} uses plain http: keys would cross the network unencrypted. Use https "
            "(http is allowed only to this machine: localhost, 127.0.0.1, ::1)."
        )
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc = f"{netloc}:{port}"
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), "", ""))
