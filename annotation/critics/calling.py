"""One critique of one trace through ``litellm.acompletion``: retries, tokens, latency, cost, majority vote.

This is the only module that imports litellm, which is slow to import; runs import it when they start.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import random
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Without this, importing litellm downloads its model cost map from the internet.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm

from annotation.core.model import Trace
from annotation.critics.config import CriticConfig, scrub
from annotation.critics.keys import PLACEHOLDER_KEY
from annotation.critics.parsing import Parsed, parse_answer
from annotation.critics.templates import render, render_verify

litellm.suppress_debug_info = True
litellm.telemetry = False


class _NoZeroPriceNotice(logging.Filter):
    """litellm warns once per model given a price that its map lacks; a zero price is ours (see Caller), not news."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "has custom pricing but not in built-in cost map" not in record.getMessage()


logging.getLogger("LiteLLM").addFilter(_NoZeroPriceNotice())

RETRYABLE = (
    litellm.RateLimitError,
    litellm.Timeout,
    litellm.APIConnectionError,
    litellm.InternalServerError,
    litellm.ServiceUnavailableError,
)
PRICE_KEYS = ("input_cost_per_token", "output_cost_per_token")
BACKOFF_BASE_S = 1.0
BACKOFF_MAX_S = 30.0


class CritiqueFailed(Exception):
    """The model could not be asked (after the retries); the message is safe to store."""


@dataclass
class Sample:
    text: str
    parsed: Parsed
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0


@dataclass
class Critique:
    parsed: Parsed
    raw: str
    prompt_hash: str
    samples: list[Sample] = field(default_factory=list)
    latency_s: float = 0.0
    attempts: int = 0

    @property
    def prompt_tokens(self) -> int:
        return sum(s.prompt_tokens for s in self.samples)

    @property
    def completion_tokens(self) -> int:
        return sum(s.completion_tokens for s in self.samples)

    @property
    def cost(self) -> float:
        return sum(s.cost for s in self.samples)

    @property
    def votes(self) -> list[int | None]:
        return [s.parsed.first_error for s in self.samples]


@dataclass
class Reply:
    """One model answer to messages of the caller's own (a reviser's, a grader's): text, tokens, cost."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    attempts: int = 0
    latency_s: float = 0.0


def prompt_hash(messages: list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(messages, ensure_ascii=False).encode("utf-8")).hexdigest()[:16]


def _retryable(error: Exception) -> bool:
    if isinstance(error, RETRYABLE):
        return True
    status = getattr(error, "status_code", None)
    return isinstance(status, int) and status >= 500


def _scrub(message: str, secret: str | None) -> str:
    return scrub(message, secret)


def priced(model: str) -> bool:
    """Whether litellm's price map knows the model."""
    try:
        return litellm.get_model_info(model=model).get("input_cost_per_token") is not None
    except Exception:  # litellm raises for a model it does not know
        return False


def _cost(response: Any) -> float:
    # litellm prices each response as it logs it; asking again would cost as much CPU a second time.
    hidden = getattr(response, "_hidden_params", None) or {}
    if hidden.get("response_cost") is not None:
        return float(hidden["response_cost"])
    # Local and unknown models have no price in litellm's map: their cost is zero, not an error.
    try:
        return float(litellm.completion_cost(completion_response=response) or 0.0)
    except Exception:
        return 0.0


class Caller:
    """Asks one critic; shared by every trace of a run."""

    def __init__(
        self,
        config: CriticConfig,
        *,
        api_key: str | None = None,
        backoff_base_s: float = BACKOFF_BASE_S,
        mock_response: Any = None,
    ) -> None:
        self.config = config
        self.template = config.prompt_template()
        self.api_key = api_key
        self.backoff_base_s = backoff_base_s
        self.mock_response = mock_response
        # A model litellm has no price for (a local server's) costs nothing, but litellm would look for its price
        # under a dozen names on every answer, a fifth of a call's CPU: saying its price is zero skips the search.
        self.zero_price = not any(k in config.extra_params for k in PRICE_KEYS) and not priced(config.model)

    def _kwargs(self) -> dict[str, Any]:
        c = self.config
        kwargs: dict[str, Any] = {
            **c.extra_params,
            "model": c.model,
            "temperature": c.temperature,
            "max_tokens": c.max_tokens,
            "timeout": c.timeout_s,
            # Retries happen here, with backoff, so that each is counted; the provider SDK must not add its own.
            "max_retries": 0,
            "num_retries": 0,
        }
        if c.api_base:
            kwargs["api_base"] = c.api_base
        # Always a key of our choosing: given none, litellm would send the environment's key to the typed api_base.
        kwargs["api_key"] = self.api_key or PLACEHOLDER_KEY
        if self.mock_response is not None:
            kwargs["mock_response"] = self.mock_response
        if self.zero_price:
            kwargs.update(dict.fromkeys(PRICE_KEYS, 0.0))
        return kwargs

    async def _complete(self, messages: list[dict[str, Any]], tally: list[int]) -> tuple[str, Any]:
        """One completion, retried with exponential backoff (and jitter) on rate limits, timeouts and 5xx."""
        attempt = 0
        while True:
            attempt += 1
            tally.append(attempt)
            try:
                response = await litellm.acompletion(messages=messages, **self._kwargs())
                return response.choices[0].message.content or "", response
            except Exception as error:
                if attempt > self.config.retries or not _retryable(error):
                    kind = type(error).__name__
                    raise CritiqueFailed(
                        _scrub(f"{kind} after {attempt} attempt(s): {error}", self.api_key)[:2000]
                    ) from None
                delay = min(BACKOFF_MAX_S, self.backoff_base_s * 2 ** (attempt - 1))
                await asyncio.sleep(delay * (0.5 + random.random() / 2))

    async def _sample(self, trace: Trace, messages: list[dict[str, Any]], tally: list[int]) -> Sample:
        text, response = await self._complete(messages, tally)
        responses = [response]
        verify = render_verify(self.template, trace)
        if verify is not None:
            first = text
            second, response = await self._complete(
                [*messages, {"role": "assistant", "content": first}, {"role": "user", "content": verify}], tally
            )
            responses.append(response)
            text = f"{first}\n\n--- verification ---\n\n{second}"
            parsed = parse_answer(second, len(trace.steps))
        else:
            parsed = parse_answer(text, len(trace.steps))
        sample = Sample(text=text, parsed=parsed)
        for r in responses:
            usage = getattr(r, "usage", None)
            sample.prompt_tokens += int(getattr(usage, "prompt_tokens", 0) or 0)
            sample.completion_tokens += int(getattr(usage, "completion_tokens", 0) or 0)
            sample.cost += _cost(r)
        return sample

    async def ask(self, messages: list[dict[str, Any]]) -> Reply:
        """One completion of the given messages, with the critic's model, settings, retries and backoff."""
        tally: list[int] = []
        start = time.perf_counter()
        text, response = await self._complete(messages, tally)
        usage = getattr(response, "usage", None)
        return Reply(
            text=text,
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            cost=_cost(response),
            attempts=len(tally),
            latency_s=time.perf_counter() - start,
        )

    async def critique(self, trace: Trace, images: Mapping[str, str] | None = None) -> Critique:
        """``images``: the trace's stored images as data URIs, given to a critic that sees images."""
        messages = render(self.template, trace, images if self.config.sees_images() else None)
        tally: list[int] = []
        start = time.perf_counter()
        samples = await asyncio.gather(*(self._sample(trace, messages, tally) for _ in range(self.config.samples)))
        chosen = majority(samples)
        return Critique(
            parsed=chosen.parsed,
            raw=chosen.text,
            prompt_hash=prompt_hash(messages),
            samples=list(samples),
            latency_s=time.perf_counter() - start,
            attempts=len(tally),
        )


def majority(samples: list[Sample]) -> Sample:
    """The sample whose first-error index most samples agree on (ties: the index seen first); unparsed ones lose."""
    parsed = [s for s in samples if not s.parsed.unparsed]
    if not parsed:
        return samples[0]
    counts = Counter(s.parsed.first_error for s in parsed)
    top = max(counts.values())
    winner = next(s.parsed.first_error for s in parsed if counts[s.parsed.first_error] == top)
    # Prefer a sample that also gave per-step labels for the winning index.
    candidates = [s for s in parsed if s.parsed.first_error == winner]
    return next((s for s in candidates if s.parsed.steps), candidates[0])
