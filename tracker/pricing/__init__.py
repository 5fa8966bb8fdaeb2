"""Prices: which dated per-token rates bill a request, and what the request cost, exactly.

* :mod:`tracker.pricing.catalog`: :class:`~tracker.pricing.catalog.PriceCatalog`, the lookup the rest of the
  app uses (overrides file first, then the bundled genai-prices snapshot; None means unpriced);
* :mod:`tracker.pricing.cost`: integer pico-dollar arithmetic and conversions;
* :mod:`tracker.pricing.overrides`: the user's TOML price overrides;
* :mod:`tracker.pricing.names`: normalisation of logged model names;
* :mod:`tracker.pricing.genai`: the genai-prices adapter, imported lazily (it pulls in pydantic).

This package never makes a network call. See docs/pricing.md.
"""
