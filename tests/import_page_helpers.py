"""Driving the import pages as a browser does: upload a file, read the prepare form back (what
each select and input holds), post it with changes, follow the report."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser

from tests.auth_fixtures import SignedInClient


def upload(client: SignedInClient, name: str, content: bytes, kind: str) -> str:
    """Upload `content` as `name` holding `kind`; returns the prepare page's URL."""
    response = client.post(
        "/imports/new",
        data={
            "file": (io.BytesIO(content), name),
            "kind": kind,
            "csrf_token": client.csrf_token,
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return str(response.headers["Location"])


class _MappingForm(HTMLParser):
    """The values the prepare page's mapping form would send as it stands."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._in_form = False
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "form" and "mapping" in found.get("class", "").split():
            self._in_form = True
        if not self._in_form:
            return
        if tag == "select":
            self._select = found.get("name")
            if self._select:
                self.values.setdefault(self._select, "")
        elif tag == "option" and self._select and "selected" in found:
            self.values[self._select] = found.get("value", "")
        elif (
            tag == "input" and found.get("name") and found.get("type") not in ("checkbox", "submit")
        ):
            self.values[found["name"]] = found.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "form":
            self._in_form = False


def mapping_form(page: str) -> dict[str, str]:
    parser = _MappingForm()
    parser.feed(page)
    return parser.values


def selected(page: str, target: str) -> str:
    """The column the prepare page chose for `target` ("" for none)."""
    return mapping_form(page).get(f"map_{target}", "")


def submit(client: SignedInClient, prepare_url: str, action: str, **changes: str) -> str:
    """Post the prepare form as it stands, with `changes`; returns the report's URL."""
    form = {
        **mapping_form(client.get(prepare_url).get_data(as_text=True)),
        **changes,
        "action": action,
        "csrf_token": client.csrf_token,
    }
    response = client.post(prepare_url, data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    return str(response.headers["Location"])


def heading(page: str) -> str:
    match = re.search(r"<h1>(.*?)</h1>", page, flags=re.S)
    assert match, page
    return " ".join(match.group(1).split())
