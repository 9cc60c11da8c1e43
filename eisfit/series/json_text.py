"""The batch JSON's text: what ``json.dumps(obj, indent=2)`` writes, in about half the time.

The standard library writes indented JSON in Python, one generator per level; :func:`json_text`
writes the same text with the common containers' values inline. :meth:`Series.json_chunks
<eisfit.series.temperature.Series.json_chunks>` writes each spectrum's object with it, and the
worker processes of a batch write the parts of it that one fit decides
(:mod:`eisfit.series.digest`).
"""

from __future__ import annotations

from json.encoder import encode_basestring_ascii
from typing import Any

__all__ = ["json_text", "item_texts"]

_INF = float("inf")
_json_str = encode_basestring_ascii


def _json_float(x: float, allow_nan: bool) -> str:
    """A float as ``json.dumps`` writes it."""
    if x != x or x in (_INF, -_INF):
        if not allow_nan:
            raise ValueError(f"Out of range float values are not JSON compliant: {x!r}")
        return "NaN" if x != x else ("Infinity" if x > 0 else "-Infinity")
    return float.__repr__(x)


def _json_key(k: Any, allow_nan: bool) -> str:
    """A dict key as ``json.dumps`` writes it; TypeError for a key it refuses."""
    if isinstance(k, str):
        return str(_json_str(k))
    if k is True or k is False or k is None:
        return {True: '"true"', False: '"false"', None: '"null"'}[k]
    if isinstance(k, int):
        return f'"{int.__repr__(k)}"'
    if isinstance(k, float):
        return f'"{_json_float(k, allow_nan)}"'
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(k).__name__}")


def _json_scalar(v: Any, allow_nan: bool) -> str | None:
    """The text of a plain ``float``, ``str``, ``int``, ``bool`` or None (their own types, not
    subclasses) as ``json.dumps`` writes it; None for anything else."""
    tv = type(v)
    if tv is float:
        return float.__repr__(v) if v - v == 0.0 else _json_float(v, allow_nan)  # NaN, ±inf
    if tv is str:
        return _json_str(v)
    if v is None:
        return "null"
    if tv is bool:
        return "true" if v else "false"
    if tv is int:
        return int.__repr__(v)
    return None


def _json_parts(obj: Any, level: int, out: list[str], allow_nan: bool) -> None:
    """Append to ``out`` the text ``json.dumps(obj, indent=2)`` gives ``obj`` nested ``level``
    deep; TypeError for what it would refuse."""
    tp = type(obj)
    if tp is dict or tp is list or tp is tuple:  # the common containers: values inline
        if not obj:
            out.append("{}" if tp is dict else "[]")
            return
        inner = ",\n" + "  " * (level + 1)
        prefix = ("{" if tp is dict else "[") + inner[1:]
        if tp is dict:
            for k, v in obj.items():
                key = _json_str(k) if type(k) is str else _json_key(k, allow_nan)
                tv = type(v)  # finite floats and strings, the most common, written here
                if tv is float and v - v == 0.0:
                    out.append(prefix + key + ": " + float.__repr__(v))
                elif tv is str:
                    out.append(prefix + key + ": " + _json_str(v))
                elif (text := _json_scalar(v, allow_nan)) is not None:
                    out.append(prefix + key + ": " + text)
                else:
                    out.append(prefix + key + ": ")
                    _json_parts(v, level + 1, out, allow_nan)
                prefix = inner
            out.append("\n" + "  " * level + "}")
        else:
            for v in obj:
                tv = type(v)
                if tv is float and v - v == 0.0:
                    out.append(prefix + float.__repr__(v))
                elif tv is str:
                    out.append(prefix + _json_str(v))
                elif (text := _json_scalar(v, allow_nan)) is not None:
                    out.append(prefix + text)
                else:
                    out.append(prefix)
                    _json_parts(v, level + 1, out, allow_nan)
                prefix = inner
            out.append("\n" + "  " * level + "]")
    elif isinstance(obj, str):
        out.append(_json_str(obj))
    elif obj is None or obj is True or obj is False:
        out.append("null" if obj is None else ("true" if obj else "false"))
    elif isinstance(obj, int):
        out.append(int.__repr__(obj))
    elif isinstance(obj, float):
        out.append(_json_float(obj, allow_nan))
    elif isinstance(obj, dict):
        if not obj:
            out.append("{}")
            return
        inner = ",\n" + "  " * (level + 1)
        opening = "{" + inner[1:]
        for k, v in obj.items():
            out.append((opening or inner) + _json_key(k, allow_nan) + ": ")
            opening = ""
            _json_parts(v, level + 1, out, allow_nan)
        out.append("\n" + "  " * level + "}")
    elif isinstance(obj, list | tuple):
        if not obj:
            out.append("[]")
            return
        inner = ",\n" + "  " * (level + 1)
        opening = "[" + inner[1:]
        for v in obj:
            out.append(opening or inner)
            opening = ""
            _json_parts(v, level + 1, out, allow_nan)
        out.append("\n" + "  " * level + "]")
    else:
        raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def json_text(obj: Any, allow_nan: bool, level: int = 0) -> str:
    """``json.dumps(obj, indent=2, allow_nan=allow_nan)``, its lines indented ``level`` steps
    more after the first: the same text, in about half the time (the standard library writes
    indented JSON in Python, one generator per level). Whatever it would refuse, it refuses
    with its own error."""
    out: list[str] = []
    try:
        _json_parts(obj, level, out, allow_nan)
    except (TypeError, RecursionError):  # json.dumps says what is wrong, in its words
        import json

        text = json.dumps(obj, indent=2, allow_nan=allow_nan)
        return text.replace("\n", "\n" + "  " * level)
    return "".join(out)


def item_texts(obj: dict[str, Any], allow_nan: bool, level: int) -> dict[str, str]:
    """The text of each item of ``obj`` (``"key": value``) as :func:`json_text` writes it in
    ``obj`` nested ``level`` deep, by key: joined with ``",\n"`` and the indent of ``level + 1``
    steps, inside ``{`` and ``}``, they make ``json_text(obj, allow_nan, level)``."""
    head, tail = 2 * level + 4, 2 * level + 2  # "{\n" and its indent; "\n", indent and "}"
    return {k: json_text({k: v}, allow_nan, level)[head:-tail] for k, v in obj.items()}


def object_text(items: Any, level: int) -> str:
    """The object whose items' texts (:func:`item_texts`) are ``items``, nested ``level``
    deep."""
    inner = "  " * (level + 1)
    return "{\n" + inner + (",\n" + inner).join(items) + "\n" + "  " * level + "}"
