"""Agent logs written from each format's public description: one realistic record each, and images to put in them.

OpenAI: the Chat Completions message objects (``tool_calls`` with ``function.arguments`` as a JSON string,
``role: tool`` with ``tool_call_id``, content parts ``text`` / ``image_url``). Anthropic: the Messages API's
content blocks (``thinking``, ``tool_use``, ``tool_result`` with ``is_error``, ``image`` with a base64
source), the system prompt and tools beside the messages.
"""

from __future__ import annotations

import base64
import io

from PIL import Image


def png(width: int = 8, height: int = 6, colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def data_uri(data: bytes, media_type: str = "image/png") -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


def openai_record(image: bytes | None = None) -> dict:
    """A support agent that looks up an order, misreads the result, and answers."""
    user_content: object = "Where is my order #A17? It was due yesterday."
    if image is not None:
        user_content = [
            {"type": "text", "text": "Where is my order #A17? Here is the receipt."},
            {"type": "image_url", "image_url": {"url": data_uri(image)}},
        ]
    return {
        "id": "run-7",
        "model": "gpt-4o-2024-08-06",
        "messages": [
            {"role": "system", "content": "You are a support agent. Use the tools."},
            {"role": "user", "content": user_content},
            {
                "role": "assistant",
                "content": None,
                "reasoning_content": "I should look the order up first.",
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_order", "arguments": '{"order_id": "A17"}'},
                    },
                    {
                        "id": "call_2",
                        "type": "function",
                        # Truncated by the model: real logs hold arguments that are not valid JSON.
                        "function": {"name": "get_shipping", "arguments": '{"order_id": "A17"'},
                    },
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "name": "get_order", "content": '{"status": "shipped"}'},
            {"role": "tool", "tool_call_id": "call_2", "name": "get_shipping", "content": "Error: bad arguments"},
            {"role": "assistant", "content": "Your order was delivered yesterday."},
            {"role": "user", "content": "It was not!"},
            {
                "role": "assistant",
                "content": "<think>The status said shipped, not delivered.</think>Sorry: it is on its way.",
            },
        ],
        "reward": 0.0,
    }


def anthropic_record(image: bytes | None = None) -> dict:
    first: list = [{"type": "text", "text": "What is the area of the room in the plan?"}]
    if image is not None:
        first.append(
            {
                "type": "image",
                "source": {"type": "base64", "media_type": "image/png", "data": base64.b64encode(image).decode()},
            }
        )
    return {
        "model": "claude-sonnet-4-5",
        "system": [{"type": "text", "text": "You can run Python."}],
        "tools": [{"name": "python", "description": "run code", "input_schema": {"type": "object"}}],
        "messages": [
            {"role": "user", "content": first},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "The plan is 4 m by 3 m.", "signature": "sig"},
                    {"type": "text", "text": "Let me compute it."},
                    {"type": "tool_use", "id": "toolu_1", "name": "python", "input": {"code": "4 * 3"}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": "NameError", "is_error": True},
                    {"type": "text", "text": "Hurry up please."},
                ],
            },
            {
                "role": "assistant",
                "content": [
                    {"type": "tool_use", "id": "toolu_2", "name": "python", "input": {"code": "print(4 * 3)"}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_2", "content": [{"type": "text", "text": "12"}]}
                ],
            },
            {"role": "assistant", "content": "The area is 12 square metres."},
        ],
    }
