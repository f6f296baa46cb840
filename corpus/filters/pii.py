"""PII anonymisation: e-mail and IP addresses replaced by reserved, non-routable stand-ins."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator

from corpus.records import Document
from corpus.steps import Step

EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}\b")
IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
# Candidates only (two colons or more, compressed `::` forms included); ipaddress decides.
IPV6 = re.compile(r"(?<![\w:])(?=[0-9A-Fa-f:]*:[0-9A-Fa-f:]*:)[0-9A-Fa-f:]{3,39}(?![\w:])")
# RFC 2606 / RFC 5737 / RFC 3849 names and addresses reserved for documentation.
EMAIL_STANDIN = "email@example.com"
IPV4_STANDIN = "192.0.2.1"
IPV6_STANDIN = "2001:db8::1"


def _public_ip(text: str) -> bool:
    """Only real, public addresses are personal data; `1.2.3` or `10.0.0.1` are not worth hiding."""
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return False
    return ip.is_global


class PIIAnonymizer(Step):
    """Replaces e-mail and public IP addresses in the text; drops nothing."""

    name = "pii"

    def __init__(self) -> None:
        super().__init__()

    def anonymize(self, text: str) -> str:
        def sub_email(m: re.Match) -> str:
            self.stats.counts["email"] += 1
            return EMAIL_STANDIN

        def sub_ip(standin: str, kind: str):
            def sub(m: re.Match) -> str:
                if not _public_ip(m.group(0)):
                    return m.group(0)
                self.stats.counts[kind] += 1
                return standin
            return sub

        text = EMAIL.sub(sub_email, text)
        text = IPV4.sub(sub_ip(IPV4_STANDIN, "ipv4"), text)
        return IPV6.sub(sub_ip(IPV6_STANDIN, "ipv6"), text)

    def __call__(self, docs: Iterable[Document]) -> Iterator[Document]:
        for doc in docs:
            self.stats.n_in += 1
            doc.text = self.anonymize(doc.text)
            self.stats.keep(doc)
            yield doc
