"""Normalisation of the model names that agent logs contain, before any price lookup.

Logs name the same model in several spellings: bare ids (``claude-sonnet-4-5-20250929``), gateway paths
(``openrouter/anthropic/claude-sonnet-4.5``, ``openai/gpt-5.5``), Bedrock ids
(``us.anthropic.claude-sonnet-4-5-20250929-v1:0``) and Vertex ids (``claude-opus-4-5@20251101``, which the
price data matches as is). This module turns them into one lower-case model id plus the provider names the
prefix mentioned, which are tried first. It never guesses a different model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SYNTHETIC_MODEL = "<synthetic>"  # Claude Code's marker for locally generated messages: never priced

# Bedrock: an optional region or "global" prefix, "anthropic.", the model id, "-v<N>[:<M>]".
_BEDROCK = re.compile(r"^(?:[a-z]{2,6}\.)?anthropic\.(?P<model>claude-.+?)(?:-v\d+(?::\d+)?)?$")


@dataclass(frozen=True, slots=True)
class ModelName:
    """A model id ready for lookup, with the provider ids its prefix named (tried before any other)."""

    model: str
    provider_hints: tuple[str, ...] = ()
    pinned: bool = False  # only the first hinted provider may price it (an alias target "provider:model")


def normalise_model(raw: str | None) -> ModelName | None:
    """The lookup form of a logged model name; None for no model or ``<synthetic>`` (never priced)."""
    if raw is None:
        return None
    name = raw.strip().lower()
    if not name or name == SYNTHETIC_MODEL:
        return None
    hints: tuple[str, ...] = ()
    if "/" in name:
        # "openrouter/anthropic/claude-x" -> "claude-x"; every path segment is a provider hint.
        *prefix, name = name.split("/")
        hints = tuple(segment for segment in prefix if segment)
    bedrock = _BEDROCK.match(name)
    if bedrock:
        name = bedrock.group("model")
        hints = (*hints, "anthropic")
    if not name or name == SYNTHETIC_MODEL:
        return None
    return ModelName(name, hints)
