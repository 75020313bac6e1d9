"""Line numbers of the features of a GeoJSON FeatureCollection (for error messages)."""

from __future__ import annotations

import bisect
import json
import re

__all__ = ["feature_lines"]

_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _skip(text: str, i: int) -> int:
    match = _WS.match(text, i)
    return match.end() if match else i


def _array_starts(text: str, i: int) -> list[int]:
    starts: list[int] = []
    i = _skip(text, i)
    if text[i] == "]":
        return starts
    while True:
        i = _skip(text, i)
        starts.append(i)
        _, i = _DECODER.raw_decode(text, i)
        i = _skip(text, i)
        if text[i] == "]":
            return starts
        if text[i] != ",":
            raise ValueError("expected , or ]")
        i += 1


def feature_lines(text: str) -> list[int]:
    """1-based line where each element of the top-level ``features`` array starts.

    Returns an empty list when the text is not a JSON object with a ``features`` array (the
    caller has already reported that), or when features share lines (minified JSON: a line
    number would not help).
    """
    try:
        i = _skip(text, 0)
        if text[i] != "{":
            return []
        i = _skip(text, i + 1)
        while text[i] != "}":
            key, i = _DECODER.raw_decode(text, i)
            i = _skip(text, i)
            if text[i] != ":":
                return []
            i = _skip(text, i + 1)
            if key == "features" and text[i] == "[":
                starts = _array_starts(text, i + 1)
                newlines = [k for k, ch in enumerate(text) if ch == "\n"]
                lines = [bisect.bisect_left(newlines, s) + 1 for s in starts]
                return lines if len(set(lines)) == len(lines) else []
            _, i = _DECODER.raw_decode(text, i)
            i = _skip(text, i)
            if text[i] == ",":
                i = _skip(text, i + 1)
    except (ValueError, IndexError):
        return []
    return []
