"""Optional segment names and descriptions from an LLM behind an OpenAI-compatible endpoint.

Configured by :class:`LLMConfig` or the environment (``SEGREC_LLM_BASE_URL``,
``SEGREC_LLM_MODEL``, ``SEGREC_LLM_API_KEY``, ``SEGREC_LLM_TIMEOUT``). Any failure (no endpoint,
timeout, HTTP error, unparsable answer) falls back to the deterministic name with a
:class:`~segrec.diagnostics.FallbackWarning`; the LLM never blocks a run.
"""

from __future__ import annotations

import json
import logging
import os
import re
import warnings
from typing import Any

from pydantic import BaseModel, Field

from segrec.diagnostics import FallbackWarning, require

__all__ = ["LLMConfig", "LLMNamer"]

_log = logging.getLogger(__name__)

_SYSTEM = (
    "You name customer segments for a marketing team. Given a JSON profile of one segment, "
    'answer with JSON only: {"name": "<2-5 word name>", "description": "<one paragraph, '
    'at most 80 words, plain language>"}. Use only facts in the profile.'
)
_PROFILE_KEYS = (
    "size",
    "share",
    "rfm",
    "price_tier",
    "top_categories",
    "keywords",
    "rating",
    "name",
)


class LLMConfig(BaseModel):
    """Endpoint settings; empty fields are read from the environment by :meth:`from_env`."""

    base_url: str | None = None
    model: str | None = None
    api_key: str | None = Field(None, repr=False)
    timeout: float = Field(20.0, gt=0)
    max_tokens: int = Field(200, ge=16)
    temperature: float = Field(0.0, ge=0.0, le=2.0)

    @classmethod
    def from_env(cls, **overrides: Any) -> LLMConfig:
        env: dict[str, Any] = {
            "base_url": os.environ.get("SEGREC_LLM_BASE_URL"),
            "model": os.environ.get("SEGREC_LLM_MODEL"),
            "api_key": os.environ.get("SEGREC_LLM_API_KEY"),
        }
        if os.environ.get("SEGREC_LLM_TIMEOUT"):
            env["timeout"] = os.environ["SEGREC_LLM_TIMEOUT"]  # type: ignore[assignment]
        env.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**{k: v for k, v in env.items() if v is not None})


def _parse(content: str) -> tuple[str, str]:
    m = re.search(r"\{.*\}", content, flags=re.S)
    if not m:
        raise ValueError("answer holds no JSON object")
    obj = json.loads(m.group(0))
    name = str(obj.get("name", "")).strip()
    desc = str(obj.get("description", "")).strip()
    if not name or len(name) > 80:
        raise ValueError(f"unusable name {name!r}")
    return name, desc


class LLMNamer:
    """Ask a chat-completions endpoint for a segment's name and one-paragraph description."""

    def __init__(self, config: LLMConfig | None = None, **kwargs: Any) -> None:
        self.config = config if config is not None else LLMConfig.from_env(**kwargs)

    @property
    def configured(self) -> bool:
        return bool(self.config.base_url and self.config.model)

    def _request(self, profile: dict[str, Any]) -> str:
        httpx = require("httpx", "llm", "LLM segment names")
        facts = {k: profile[k] for k in _PROFILE_KEYS if k in profile}
        url = self.config.base_url.rstrip("/")  # type: ignore[union-attr]
        if not url.endswith("/v1"):
            url += "/v1"
        headers = {"Content-Type": "application/json"}
        if self.config.api_key:
            headers["Authorization"] = f"Bearer {self.config.api_key}"
        body = {
            "model": self.config.model,
            "messages": [
                {"role": "system", "content": _SYSTEM},
                {"role": "user", "content": json.dumps(facts, default=str)},
            ],
            "temperature": self.config.temperature,
            "max_tokens": self.config.max_tokens,
        }
        resp = httpx.post(
            f"{url}/chat/completions", json=body, headers=headers, timeout=self.config.timeout
        )
        resp.raise_for_status()
        return str(resp.json()["choices"][0]["message"]["content"])

    def describe(self, profile: dict[str, Any]) -> tuple[str, str | None, bool]:
        """(name, description, used_llm); falls back to ``profile["name"]`` on any failure."""
        fallback = str(profile.get("name", f"Segment {profile.get('segment_id')}"))
        if not self.configured:
            warnings.warn(
                "LLM naming requested but no endpoint is configured (set SEGREC_LLM_BASE_URL "
                "and SEGREC_LLM_MODEL); using the deterministic name",
                FallbackWarning,
                stacklevel=2,
            )
            return fallback, None, False
        try:
            name, desc = _parse(self._request(profile))
        except Exception as exc:  # any failure: network, HTTP, JSON, schema
            warnings.warn(
                f"LLM naming failed for segment {profile.get('segment_id')} "
                f"({type(exc).__name__}: {str(exc)[:120]}); using the deterministic name",
                FallbackWarning,
                stacklevel=2,
            )
            return fallback, None, False
        _log.info("LLM named segment %s", profile.get("segment_id"))
        return name, desc, True
