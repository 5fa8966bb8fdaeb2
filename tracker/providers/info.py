"""The providers Token Ledger can poll, with their default base URLs and the kind of key each needs."""

from __future__ import annotations

from tracker.providers.base import ProviderInfo

PROVIDERS: dict[str, ProviderInfo] = {
    p.name: p
    for p in (
        ProviderInfo("openai", "OpenAI", "https://api.openai.com/v1", "an Admin key (sk-admin-...)"),
        ProviderInfo("anthropic", "Anthropic", "https://api.anthropic.com", "an Admin key (sk-ant-admin...)"),
        ProviderInfo("openrouter", "OpenRouter", "https://openrouter.ai/api/v1",
                     "an API key (sk-or-v1-...); a management key also reads credits and activity"),
        ProviderInfo("deepseek", "DeepSeek", "https://api.deepseek.com", "an API key (sk-...)"),
        ProviderInfo("moonshot", "Moonshot (Kimi)", "https://api.moonshot.ai/v1",
                     "an API key (sk-...); use https://api.moonshot.cn/v1 for a China account"),
    )
}
