#!/usr/bin/env python3
"""Checks the generated API reference in headless Chromium (the docs stage).

Opens every HTML page of HTML_DIR in one headless Chromium and reads its DOM
once the page has loaded (after the pages' scripts ran, menus included), then
fails if
- a page has no content: no `div.contents`, or one with no text;
- an internal link is broken: its file does not exist, or its `#anchor` is no
  `id` or `name` in the target's DOM.
External links (http, https, mailto) are not followed.

Usage: scripts/check_docs.py HTML_DIR
"""
import json
import os
import pathlib
import select
import subprocess
import sys
import tempfile
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


class Browser:
    """One headless Chromium, driven over the DevTools protocol on a pipe
    (`--remote-debugging-pipe`: commands on its fd 3, replies and events on
    its fd 4, each a JSON text ended by a NUL). Starting Chromium once per
    page cost about 2.7 s a page (the stage took 193 s for 70 pages).
    Use it in a `with` block: Chromium is closed however the block ends."""

    TIMEOUT = 120  # s without a message from Chromium: it is stuck

    def __init__(self, workdir):
        self._log = open(os.path.join(workdir, "chromium.log"), "wb")
        to_browser, self._to = os.pipe()
        self._from, from_browser = os.pipe()
        # bash (dash refuses fd numbers over 9) puts the pipes on fds 3 and 4,
        # closes the originals, then becomes Chromium.
        redirect = f"3<&{to_browser} 4>&{from_browser}" + "".join(
            f" {fd}<&-" for fd in (to_browser, from_browser) if fd not in (3, 4))
        self.proc = subprocess.Popen(
            ["bash", "-c", f'exec "$0" "$@" {redirect}', CHROMIUM,
             "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-extensions", "--disable-background-networking", "--disable-sync",
             "--disable-component-update", "--disable-default-apps", "--mute-audio",
             "--user-data-dir=" + os.path.join(workdir, "profile"),
             "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
            pass_fds=(to_browser, from_browser), start_new_session=True)
        os.close(to_browser)
        os.close(from_browser)
        self._buffer, self._next_id, self._events = b"", 0, []
        self._responsive = True
        self.session = None

    def __enter__(self):
        try:
            target = self.call("Target.createTarget", url="about:blank")["targetId"]
            self.session = self.call("Target.attachToTarget", targetId=target,
                                     flatten=True)["sessionId"]
            self.call("Page.enable", session=self.session)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def _read(self):
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._from], [], [], self.TIMEOUT)
            chunk = os.read(self._from, 1 << 16) if ready else b""
            if not chunk:
                self._responsive = False
                raise RuntimeError(
                    f"chromium: no reply (it ended with status {self.proc.poll()}, or took"
                    f" over {self.TIMEOUT} s); its output ends with:\n{self._log_tail()}")
            self._buffer += chunk
        text, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(text)

    def _log_tail(self):
        self._log.flush()
        with open(self._log.name, "rb") as f:
            return f.read()[-2000:].decode(errors="replace")

    def call(self, method, session=None, **params):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"chromium: {method}: {reply['error']}")
                return reply["result"]
            self._events.append(reply)

    def _wait_event(self, method):
        while True:
            for i, e in enumerate(self._events):
                if e.get("method") == method and e.get("sessionId") == self.session:
                    del self._events[i]
                    return e
            self._events.append(self._read())

    def dom(self, url):
        """The DOM of `url` once it has loaded (its scripts have run)."""
        self._events.clear()
        nav = self.call("Page.navigate", session=self.session, url=url)
        if nav.get("errorText"):
            raise RuntimeError(f"chromium could not open {url}: {nav['errorText']}")
        # A load event says nothing of which document loaded (a late one of
        # the previous page, or of about:blank, may come first): read the
        # DOM only once the document is this page's, completely loaded.
        for _ in range(10):
            self._wait_event("Page.loadEventFired")
            state = self.call("Runtime.evaluate", session=self.session, returnByValue=True,
                              expression="[location.href, document.readyState,"
                                         " document.documentElement.outerHTML]")
            href, ready, html = state["result"].get("value") or ["", "", ""]
            if href == url and ready == "complete":
                return html
        raise RuntimeError(f"chromium: {url} did not load (last: {href}, {ready})")

    def close(self):
        if self._responsive:
            try:
                self.call("Browser.close")
            except (RuntimeError, OSError):
                pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait()
        os.close(self._to)
        os.close(self._from)
        self._log.close()


def dump(browser, path):
    html = browser.dom(pathlib.Path(path).as_uri())
    if "<html" not in html:
        raise RuntimeError(f"chromium could not open {path}")
    page = Page()
    page.feed(html)
    return path, page


def main() -> int:
    html = os.path.abspath(sys.argv[1])
    files = sorted(os.path.join(html, f) for f in os.listdir(html) if f.endswith(".html"))
    if not files:
        print(f"docs: no page in {html}", file=sys.stderr)
        return 1
    # Chromium's helpers may still write in the profile as it is removed.
    with tempfile.TemporaryDirectory(prefix="check-docs-", ignore_cleanup_errors=True) as work, \
            Browser(work) as browser:
        pages = dict(dump(browser, f) for f in files)
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
