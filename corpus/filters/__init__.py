"""Heuristic document filters: each a small `Filter` with named drop reasons.

Defaults are FineWeb's (datatrove) settings of the Gopher, C4 and FineWeb rules; the numbers are in
each filter's config dataclass.
"""

from corpus.filters.c4 import C4Filter
from corpus.filters.fineweb import FineWebQualityFilter
from corpus.filters.gopher import GopherQualityFilter, GopherRepetitionFilter
from corpus.filters.length import LengthFilter
from corpus.filters.url import URLFilter

__all__ = ["C4Filter", "FineWebQualityFilter", "GopherQualityFilter", "GopherRepetitionFilter",
           "LengthFilter", "URLFilter"]
