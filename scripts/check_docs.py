#!/usr/bin/env python3
"""Checks the generated API reference in headless Chromium (the docs stage).

Opens every HTML page of HTML_DIR with `chromium --headless --dump-dom` (the
DOM after the pages' scripts ran, menus included) and fails if
- a page has no content: no `div.contents`, or one with no text;
- an internal link is broken: its file does not exist, or its `#anchor` is no
  `id` or `name` in the target's DOM.
External links (http, https, mailto) are not followed.

Usage: scripts/check_docs.py HTML_DIR [JOBS]
"""
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

CHROMIUM = os.environ.get("CHROMIUM", "chromium")


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.anchors = [], set()
        self.depth = 0  # > 0 inside div.contents
        self.has_contents, self.text = False, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name"):
            if a.get(key):
                self.anchors.add(a[key])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if self.depth:
            self.depth += tag not in ("br", "img", "input", "meta", "link", "hr")
        elif tag == "div" and "contents" in (a.get("class") or "").split():
            self.has_contents, self.depth = True, 1

    def handle_endtag(self, tag):
        if self.depth and tag not in ("br", "img", "input", "meta", "link", "hr"):
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.text.append(data)


def dump(path):
    r = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                        "--dump-dom", "file://" + path],
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0 or "<html" not in r.stdout:
        raise RuntimeError(f"chromium could not open {path}: {r.stderr[-500:]}")
    page = Page()
    page.feed(r.stdout)
    return path, page


def main() -> int:
    html = os.path.abspath(sys.argv[1])
    jobs = int(sys.argv[2]) if len(sys.argv) > 2 else os.cpu_count() or 1
    files = sorted(os.path.join(html, f) for f in os.listdir(html) if f.endswith(".html"))
    if not files:
        print(f"docs: no page in {html}", file=sys.stderr)
        return 1
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        pages = dict(pool.map(dump, files))
    problems, links = [], 0
    for path, page in pages.items():
        name = os.path.relpath(path, html)
        if not page.has_contents:
            problems.append(f"{name}: no div.contents")
        elif not "".join(page.text).strip():
            problems.append(f"{name}: empty content")
        for href in page.links:
            url = urlsplit(href)
            if url.scheme in ("http", "https", "mailto", "javascript"):
                continue
            links += 1
            target = os.path.normpath(os.path.join(os.path.dirname(path), unquote(url.path))) \
                if url.path else path
            if not os.path.exists(target):
                problems.append(f"{name}: broken link {href}")
            elif url.fragment and target.endswith(".html"):
                anchors = pages[target].anchors if target in pages else set()
                if unquote(url.fragment) not in anchors:
                    problems.append(f"{name}: link {href}: no anchor '{url.fragment}'")
    for p in problems:
        print("docs:", p, file=sys.stderr)
    print(f"docs: {len(pages)} pages, {links} internal links checked in headless Chromium, "
          f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
