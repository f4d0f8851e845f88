"""Is a written report really self-contained? What a browser would fetch from elsewhere."""

from __future__ import annotations

import re

_EXTERNAL = re.compile(
    r"""(?:\b(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:(?!data:)[a-z][a-z0-9+.-]*:|//)"""
    r"""|url\(\s*["']?\s*(?!\#|data:)|@import)""",
    re.IGNORECASE,
)
_SCRIPT = re.compile(r"<script\b", re.IGNORECASE)


def external_references(page: str) -> list[str]:
    """Every reference in `page` to something outside it (a URL in src/href/url(), an @import;
    `data:` URLs and `#` fragments are inside), and any script: empty for a page that opens
    offline."""
    found = [page[m.start() : m.start() + 60] for m in _EXTERNAL.finditer(page)]
    found += [page[m.start() : m.start() + 60] for m in _SCRIPT.finditer(page)]
    return found
