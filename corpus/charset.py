"""Decoding a fetched page's bytes: the one rule for HTML and plain-text pages alike.

The declared charset is used when it decodes strictly (with a browser's reading of the label and
its byte order mark); when it is missing, unknown or wrong, the encoding is detected from the bytes.
"""

from __future__ import annotations

import codecs

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode_declared(payload: bytes, charset: str | None) -> str | None:
    """The payload decoded as declared, or None when the declaration is missing, unknown or wrong.

    As browsers do (WHATWG Encoding): a byte order mark overrides the header, and a label means
    what the web means by it (`iso-8859-1` and `ascii` are windows-1252, `gb2312` is gbk). The
    decoding is strict: bytes the charset cannot hold prove the label wrong, where replacing them
    would put U+FFFD in the text. Bytes that are valid UTF-8 with non-ASCII in them are UTF-8
    whatever the label says: a legacy encoding practically never forms valid UTF-8 by chance, and
    decoding them as, say, windows-1252 never fails but gives mojibake ("cafÃ©").
    """
    from resiliparse.parse.encoding import map_encoding_to_html5

    for bom, codec in _BOMS:
        if payload.startswith(bom):
            return _strict(payload, codec)
    codec = map_encoding_to_html5(charset, fallback_utf8=False) if charset else None
    if codec is None:
        return None
    if codec != "utf-8" and not payload.isascii() and (text := _strict(payload, "utf-8")) is not None:
        return text
    return _strict(payload, codec)


def _strict(payload: bytes, codec: str) -> str | None:
    try:
        return payload.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_detected(payload: bytes) -> str:
    """The payload in the encoding detected from its bytes (resiliparse's detector)."""
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding

    return bytes_to_str(payload, detect_encoding(payload))
