"""The price fingerprint: a short digest that changes whenever stored estimated costs may be stale.

It covers the pricing code version, the installed genai-prices version and the bytes of the user's
overrides file. This module imports almost nothing, so a sync with nothing new can tell in a few
microseconds that no row needs re-pricing (importing the price catalog, let alone genai-prices, is not
free).
"""

from __future__ import annotations

import hashlib
import os

PRICING_CODE_VERSION = 1  # bump when a code change can change a price


def price_fingerprint(overrides_bytes: bytes | None) -> str:
    digest = hashlib.sha256(f"pricing-v{PRICING_CODE_VERSION}\0".encode())
    digest.update(f"genai-prices {genai_prices_version()}\0".encode())
    digest.update(overrides_bytes if overrides_bytes is not None else b"\0no overrides")
    return digest.hexdigest()[:16]


def fingerprint_of_file(overrides_path: str | os.PathLike[str] | None) -> str:
    """The fingerprint for an overrides file path (missing or None: no overrides), without parsing it."""
    data = None
    if overrides_path is not None:
        try:
            with open(overrides_path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            data = None
    return price_fingerprint(data)


def genai_prices_version() -> str:
    """The installed genai-prices version, without importing it (pydantic) or importlib.metadata (~30 ms).

    The ``genai_prices-<version>.dist-info`` folder beside the package names it; importlib.metadata is the
    fallback for layouts without one (e.g. a frozen bundle).
    """
    from importlib.machinery import PathFinder

    spec = PathFinder.find_spec("genai_prices")
    if spec is not None and spec.origin:
        site = os.path.dirname(os.path.dirname(spec.origin))
        try:
            names = os.listdir(site)
        except OSError:
            names = []
        for name in names:
            if name.startswith("genai_prices-") and name.endswith(".dist-info"):
                return name[len("genai_prices-") : -len(".dist-info")]
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("genai-prices")
    except PackageNotFoundError:
        return "absent"
