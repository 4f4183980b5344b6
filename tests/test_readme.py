"""README.md: every link into the repository resolves, every other one is a URL."""

from pathlib import Path
import re
from urllib.parse import urlparse

REPO = Path(__file__).parent.parent
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_readme_links_resolve() -> None:
    links = LINK.findall((REPO / "README.md").read_text("utf-8"))
    assert links
    for link in links:
        parsed = urlparse(link)
        if parsed.scheme:
            assert parsed.scheme == "https", link
            assert parsed.netloc, link
        else:
            assert (REPO / link.split("#")[0]).exists(), link
