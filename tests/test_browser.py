"""The rendered book as a reader sees it: every page in headless Chromium.

``make test-browser`` (part of ``make test``, after the strict book build)
sets ``LSTM_TUTORIAL_HTML=_build/html``; without that variable this module
is skipped, since the book may not be built yet. A local HTTP server on
127.0.0.1 serves the build; Chromium (Debian's ``chromium`` package,
driven over the DevTools protocol through a pipe: no extra dependency)
opens every page with every request to another origin failed by the test
itself. Per page: no console error, no failed or remote request, every
``img`` loaded, every equation typeset by MathJax (served from the book)
with no raw TeX left, and the sidebar listing every ``_toc.yml`` entry. A
screenshot of each page goes to ``_build/screenshots/``. Where Chromium is
missing the browser tests are skipped loudly (and fail under ``CI=true``).
"""

import base64
import functools
import html.parser
import http.server
import os
import re
import shutil
import threading
import warnings

import pytest
import yaml

from devtools import Chromium
from notebook_checks import ROOT

_html = os.environ.get("LSTM_TUTORIAL_HTML")
HTML = (ROOT / _html).resolve() if _html else None
SHOTS = HTML.parent / "screenshots" if HTML else None
NOT_PAGES = ("_static", "_sources", "_images", "mathjax")
WIDTH, HEIGHT, MAX_SHOT = 1280, 900, 16000  # viewport; screenshot cap (px)
PHONE = 390  # a phone's width (px)
PAGE_TIMEOUT = 60

if HTML is None:
    pytest.skip("the browser test runs on a built book: `make test-browser`"
                " (sets LSTM_TUTORIAL_HTML=_build/html)",
                allow_module_level=True)


def pages():
    """Every HTML page of the build, relative to it."""
    if HTML is None or not HTML.is_dir():
        return []
    return sorted(p.relative_to(HTML).as_posix() for p in HTML.rglob("*.html")
                  if p.relative_to(HTML).parts[0] not in NOT_PAGES)


PAGES = pages()


def toc():
    """(pages, captions) of ``_toc.yml``: root first, in reading order."""
    spec = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files, captions = [spec["root"]], []

    def walk(entries):
        for entry in entries:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections", []))

    for part in spec.get("parts", []):
        captions.append(part.get("caption"))
        walk(part.get("chapters", []))
    walk(spec.get("chapters", []))
    return files, [c for c in captions if c]


def chromium():
    """Path of the Chromium binary, or None."""
    return os.environ.get("CHROMIUM") or shutil.which("chromium")


# -- the book on disk (no browser needed) -----------------------------------

def test_the_book_was_built():
    assert PAGES, (f"no HTML pages in {HTML}: build the book first "
                   "(make test-book)")
    files, _ = toc()
    for name in files:
        assert f"{name}.html" in PAGES, f"{name} in _toc.yml was not built"


def test_mathjax_is_served_from_the_book():
    script = HTML / "mathjax" / "tex-chtml.js"
    assert script.is_file(), "MathJax not copied in (_ext/offline_mathjax.py)"
    assert 'VERSION="3.2.2"' in script.read_text(encoding="utf-8")
    fonts = list((HTML / "mathjax/output/chtml/fonts/woff-v2").glob("*.woff"))
    assert len(fonts) > 20, "MathJax's CHTML fonts are missing"


class _Resources(html.parser.HTMLParser):
    """Every URL a page makes the browser load (not links to follow)."""

    LOADS = {"script": "src", "img": "src", "iframe": "src", "embed": "src",
             "source": "src", "video": "src", "audio": "src",
             "object": "data", "track": "src"}
    LINK_LOADS = {"stylesheet", "preload", "modulepreload", "prefetch",
                  "icon", "manifest", "preconnect", "dns-prefetch"}

    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "link" and set((attrs.get("rel") or "").split()) \
                & self.LINK_LOADS:
            self.urls.append(attrs.get("href") or "")
        elif tag in self.LOADS:
            self.urls.append(attrs.get(self.LOADS[tag]) or "")
            self.urls += re.findall(r"(\S+)(?:\s+\S+)?(?:,|$)",
                                    attrs.get("srcset") or "")


def _remote(url):
    return bool(re.match(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", url, re.I))


@pytest.mark.parametrize("page", PAGES)
def test_no_page_names_a_remote_resource(page):
    parser = _Resources()
    parser.feed((HTML / page).read_text(encoding="utf-8"))
    assert [u for u in parser.urls if _remote(u)] == []


def test_footer_copyright_is_the_configured_year():
    # SOURCE_DATE_EPOCH=0 (set for the kernels' SVG dates) once made
    # Sphinx rewrite the copyright year to 1970 on every page.
    year = yaml.safe_load((ROOT / "_config.yml").read_text())["copyright"]
    page = (HTML / "book" / "intro.html").read_text(encoding="utf-8")
    assert f"Copyright {year}." in page and "1970" not in page


def test_no_stylesheet_imports_a_remote_resource():
    found = []
    for css in HTML.glob("_static/**/*.css"):
        text = re.sub(r"/\*.*?\*/", "", css.read_text(encoding="utf-8"),
                      flags=re.S)
        for url in re.findall(r"(?:url\(|@import)\s*['\"]?([^'\")\s]+)",
                              text):
            if _remote(url):
                found.append(f"{css.relative_to(HTML)}: {url}")
    assert found == []


# -- the book in Chromium ---------------------------------------------------

class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".js": "text/javascript", ".svg": "image/svg+xml",
                      ".woff": "font/woff", ".woff2": "font/woff2"}

    def log_message(self, *args):
        pass


# Runs in the page once it has loaded: waits for MathJax and fonts, then
# reports what a reader would see.
CHECK_PAGE = r"""
(async () => {
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  const mj = window.MathJax;
  const mathjax = !!(mj && mj.version);
  if (mathjax && mj.startup && mj.startup.promise)
    await Promise.race([mj.startup.promise, sleep(20000)]);
  await document.fonts.ready;
  const images = Array.from(document.images);
  images.forEach(img => { img.loading = "eager"; });
  await Promise.all(images.map(img => img.decode().catch(() => null)));
  const nodes = Array.from(document.querySelectorAll("div.math, span.math"));
  const raw = [];
  const skip = new Set(["PRE", "CODE", "SCRIPT", "STYLE", "TEXTAREA",
                        "MJX-CONTAINER", "MJX-ASSISTIVE-MML"]);
  const walker = document.createTreeWalker(document.body,
                                           NodeFilter.SHOW_TEXT);
  // $$, \( \) \[ \] or \begin{ left over, or $...$ holding TeX syntax
  const tex = new RegExp(String.raw`\$\$|\\[()[\]]|\\begin\{|`
                         + String.raw`\$[^$\s][^$]*[\\^_{}][^$]*\$`);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    let p = n.parentElement, hidden = false;
    for (; p && !hidden; p = p.parentElement) hidden = skip.has(p.tagName);
    if (!hidden && tex.test(n.textContent))
      raw.push(n.textContent.trim().slice(0, 120));
  }
  return {
    url: location.href,
    title: document.title,
    mathjax: mathjax ? mj.version : null,
    mathjaxSrc: Array.from(document.scripts).map(s => s.src)
                  .filter(s => /tex-.*\.js/.test(s)),
    images: images.map(img => ({src: img.currentSrc || img.src,
                                ok: img.complete && img.naturalWidth > 0})),
    math: nodes.length,
    containers: document.querySelectorAll("mjx-container").length,
    untypeset: nodes.filter(n => n.querySelectorAll("mjx-container")
                 .length !== 1).map(n => n.textContent.slice(0, 120)),
    mathErrors: Array.from(document.querySelectorAll(
                  "mjx-merror, [data-mjx-error]"))
                  .map(n => n.getAttribute("data-mjx-error")
                            || n.textContent.slice(0, 120)),
    raw: raw,
    sidebar: Array.from(document.querySelectorAll("nav.bd-docs-nav a[href]"))
               .map(a => new URL(a.href).pathname),
    captions: Array.from(document.querySelectorAll(
                "nav.bd-docs-nav .caption-text")).map(c => c.textContent),
    numbered: Array.from(document.querySelectorAll("nav.bd-docs-nav a[href]"))
                .map(a => [new URL(a.href).pathname, a.textContent.trim()]),
    title: (document.querySelector("article h1") || {}).textContent || "",
    figures: Array.from(document.querySelectorAll("article figure"))
               .map(f => ({
                 id: f.id || "",
                 number: ((f.querySelector("figcaption .caption-number")
                           || {}).textContent || "").trim(),
                 caption: ((f.querySelector("figcaption") || {}).textContent
                           || "").trim().slice(0, 120),
                 images: Array.from(f.querySelectorAll("img"))
                           .map(i => i.getAttribute("src") || ""),
                 // an HTML figure (chapter 7's coloured text): its text
                 text: Array.from(f.children)
                         .filter(c => c.tagName !== "FIGCAPTION")
                         .map(c => c.textContent).join("").trim().length})),
    alts: Array.from(document.querySelectorAll("article img"))
            .map(i => ({src: i.getAttribute("src") || "",
                        alt: i.getAttribute("alt")})),
  };
})()
"""


# What a reader cannot read: an output or code area that scrolls sideways
# (at the desktop width), a display equation wider than its column (at a
# phone's width the same script finds those), and placeholders left in
# the prose: an upper-case identifier with an underscore (LM_EPOCHS) or a
# brace, outside code and math. ``inject`` (for the broken-copy test)
# first adds one of each to the page.
LAYOUT = r"""
(async (inject) => {
  const mj = window.MathJax;
  if (mj && mj.startup && mj.startup.promise) await mj.startup.promise;
  await document.fonts.ready;
  const article = document.querySelector("article");
  if (inject && article) {
    const out = document.createElement("div");
    out.className = "cell_output";
    out.innerHTML = "<pre>" + "x".repeat(300) + "</pre>";
    const prose = document.createElement("p");
    prose.textContent = "both get LM_EPOCHS epochs {glue:text}";
    const eq = document.createElement("div");
    eq.className = "math notranslate nohighlight";
    eq.textContent = "\\[" + Array(40).fill("x_{t}").join(" + ") + "\\]";
    const table = document.createElement("table");
    table.innerHTML = "<tr><td><div style='width: 2000px'>y</div></td></tr>";
    article.append(out, prose, eq, table);
    await mj.typesetPromise([eq]);
  }
  const label = n => n.textContent.trim().replace(/\s+/g, " ").slice(0, 80);
  const wide = sel => Array.from(document.querySelectorAll(sel))
    .filter(n => n.scrollWidth > n.clientWidth + 1).map(label);
  const skip = new Set(["PRE", "CODE", "SCRIPT", "STYLE", "MJX-CONTAINER",
                        "MJX-ASSISTIVE-MML", "svg"]);
  const placeholder = /\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b|[{}]/;
  const placeholders = [];
  if (article) {
    const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      let p = n.parentElement, hidden = false;
      for (; p && p !== article && !hidden; p = p.parentElement)
        hidden = skip.has(p.tagName) || p.classList.contains("math");
      if (!hidden && placeholder.test(n.textContent))
        placeholders.push(n.textContent.trim().slice(0, 120));
    }
  }
  return {
    scrolls: wide("article div.highlight pre, article div.cell_output, " +
                  "article div.cell_output pre, article div.output, " +
                  "article table, article .pst-scrollable-table-container"),
    pageScrolls: document.documentElement.scrollWidth >
                 document.documentElement.clientWidth + 1,
    tooWide: wide("article div.math, article div.math mjx-container"),
    // a table wider than the column it sits in (its container scrolls)
    wideTables: Array.from(document.querySelectorAll("article table"))
      .filter(t => t.getBoundingClientRect().width >
                   t.parentElement.clientWidth + 1).map(label),
    placeholders: placeholders,
  };
})
"""


class Book:
    """The built book served on 127.0.0.1 and read page by page."""

    def __init__(self, binary, workdir):
        handler = functools.partial(_QuietHandler, directory=str(HTML))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                      handler)
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever,
                         daemon=True).start()
        self.browser = Chromium(binary, workdir / "profile",
                                workdir / "chromium.log")
        self.version = self.browser.send("Browser.getVersion")["product"]
        target = self.browser.send("Target.createTarget",
                                   {"url": "about:blank"})["targetId"]
        self.session = self.browser.send(
            "Target.attachToTarget",
            {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")
        self._viewport(HEIGHT)
        self.call("Fetch.enable", {"patterns": [{"urlPattern": "*"}]})
        self.browser.handlers["Fetch.requestPaused"] = self._gate
        self.blocked, self.results = [], {}

    def call(self, method, params=None, timeout=30):
        return self.browser.send(method, params, self.session, timeout)

    def _gate(self, event):
        """Let requests to the local server through; fail all others."""
        request = event["params"]["request"]
        url, ident = request["url"], event["params"]["requestId"]
        if url.startswith(self.origin + "/"):
            self.browser.post("Fetch.continueRequest", {"requestId": ident},
                              self.session)
        else:
            self.blocked.append(url)
            self.browser.post("Fetch.failRequest",
                              {"requestId": ident,
                               "errorReason": "BlockedByClient"},
                              self.session)

    def visit(self, page):
        """Load ``page``; what the reader got, as a dict (cached)."""
        if page not in self.results:
            self.results[page] = self._visit(page)
        return self.results[page]

    def _visit(self, page):
        browser = self.browser
        browser.events.clear()
        self.blocked = []
        self.call("Page.navigate", {"url": f"{self.origin}/{page}"})
        loads, events = 0, browser.events
        while True:  # a redirect (index.html) loads a second document
            assert browser.wait_until(
                lambda n=loads: _count(events, "Page.loadEventFired") > n,
                PAGE_TIMEOUT), f"{page} did not load in {PAGE_TIMEOUT} s"
            loads = _count(events, "Page.loadEventFired")
            browser.settle()
            if _main_navigations(events) <= loads:
                break
        report = self.call("Runtime.evaluate",
                           {"expression": CHECK_PAGE, "awaitPromise": True,
                            "returnByValue": True}, timeout=PAGE_TIMEOUT)
        assert "exceptionDetails" not in report, report
        result = report["result"]["value"]
        result.update(self.layout())
        browser.settle(quiet=0.3)
        result.update(_problems(browser.events, self.origin))
        result["blocked"] = list(self.blocked)
        result["screenshot"] = self._screenshot(page)
        return result

    def layout(self, inject=False):
        """LAYOUT's findings on the page loaded now (``inject``: after
        adding one problem of each kind)."""
        report = self.call("Runtime.evaluate", {
            "expression": f"{LAYOUT}({'true' if inject else 'false'})",
            "awaitPromise": True, "returnByValue": True},
            timeout=PAGE_TIMEOUT)
        assert "exceptionDetails" not in report, report
        return report["result"]["value"]

    def _screenshot(self, page, folder=None, width=WIDTH, mobile=False):
        """The whole page: the viewport stretched to the page's height."""
        size = self.call("Page.getLayoutMetrics")["cssContentSize"]
        self._viewport(min(int(size["height"]) + 1, MAX_SHOT), width, mobile)
        try:
            self.browser.settle(quiet=0.2)
            shot = self.call("Page.captureScreenshot", {"format": "png"},
                             timeout=PAGE_TIMEOUT)
        finally:
            self._viewport(HEIGHT)
        path = (folder or SHOTS) / (page.removesuffix(".html").replace(
            "/", "_") + ".png")
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def _viewport(self, height, width=WIDTH, mobile=False):
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1,
                   "mobile": mobile})

    def phone_visit(self, page, folder, width=390, height=844):
        """``page`` at a phone's width: LAYOUT's findings there, with the
        whole page as PNG in ``folder`` (``"screenshot"``), cached."""
        key = ("phone", page)
        if key in self.results:
            return self.results[key]
        try:
            self._load(page, width, height, mobile=True)
            seen = self.layout()
        except BaseException:
            self._viewport(HEIGHT)
            raise
        seen["screenshot"] = self._screenshot(page, folder, width,
                                              mobile=True)
        self.results[key] = seen
        return seen

    def broken_layout(self, page, width=WIDTH):
        """LAYOUT's findings on ``page`` at ``width`` after injecting one
        problem of each kind (the page is reloaded by the next visit)."""
        try:
            self._load(page, width, HEIGHT, mobile=width < 600)
            return self.layout(inject=True)
        finally:
            self._viewport(HEIGHT)

    def _load(self, page, width, height, mobile):
        """Load ``page`` in a viewport of ``width`` x ``height``."""
        browser = self.browser
        self._viewport(height, width, mobile)
        browser.events.clear()
        self.call("Page.navigate", {"url": f"{self.origin}/{page}"})
        assert browser.wait_until(
            lambda: _count(browser.events, "Page.loadEventFired") > 0,
            PAGE_TIMEOUT), f"{page} did not load in {PAGE_TIMEOUT} s"
        browser.settle()

    def close(self):
        self.browser.close()
        self.server.shutdown()
        self.server.server_close()


def _count(events, method):
    return sum(e.get("method") == method for e in events)


def _main_navigations(events):
    return sum(e.get("method") == "Page.frameNavigated"
               and "parentId" not in e["params"]["frame"] for e in events)


def _problems(events, origin):
    """Console errors and failed or remote requests among the events."""
    urls, console, failed, remote = {}, [], [], []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            urls[params["requestId"]] = url
            if not url.startswith((origin + "/", "data:", "blob:", "about:")):
                remote.append(url)
        elif method == "Network.loadingFailed":
            failed.append(f"{urls.get(params['requestId'], '?')}: "
                          f"{params.get('errorText')}")
        elif method == "Network.responseReceived":
            status = params["response"]["status"]
            if status >= 400:
                failed.append(f"{params['response']['url']}: HTTP {status}")
        elif method == "Runtime.consoleAPICalled" and params["type"] in (
                "error", "assert"):
            console.append(" ".join(str(a.get("value", a.get("description")))
                                    for a in params.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            console.append(details.get("exception", {}).get(
                "description", details.get("text")))
        elif method == "Log.entryAdded" and (
                entry := params["entry"])["level"] == "error":
            console.append(f"{entry['text']} ({entry.get('url', '')})")
    return {"console": console, "failed": failed, "remote": remote}


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    binary = chromium()
    if binary is None:
        message = ("CHROMIUM NOT FOUND: the browser test of the book did NOT "
                   "run. Install Debian's chromium (apt-get install chromium;"
                   " .ci/run does) or set CHROMIUM to its path.")
        warnings.warn(message, stacklevel=1)
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    if not PAGES:
        pytest.fail(f"no HTML pages in {HTML}: run make test-book first")
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("*.png"):
        old.unlink()
    opened = Book(binary, tmp_path_factory.mktemp("chromium"))
    try:
        yield opened
    finally:
        opened.close()


@pytest.mark.parametrize("page", PAGES)
def test_no_console_error(book, page):
    assert book.visit(page)["console"] == []


@pytest.mark.parametrize("page", PAGES)
def test_no_failed_or_remote_request(book, page):
    seen = book.visit(page)
    assert seen["failed"] == []
    assert seen["remote"] == [] and seen["blocked"] == []


@pytest.mark.parametrize("page", PAGES)
def test_every_image_loaded(book, page):
    images = book.visit(page)["images"]
    assert [i["src"] for i in images if not i["ok"]] == []


@pytest.mark.parametrize("page", PAGES)
def test_every_equation_typeset(book, page):
    seen = book.visit(page)
    if seen["math"]:
        assert seen["mathjax"] == "3.2.2", "MathJax did not load"
        local = f"{book.origin}/mathjax/tex-chtml.js"
        assert [s.split("?")[0] for s in seen["mathjaxSrc"]] == [local]
    assert seen["untypeset"] == []
    assert seen["containers"] == seen["math"]
    assert seen["mathErrors"] == []
    assert seen["raw"] == [], "raw TeX left in the page"


@pytest.mark.parametrize("page", PAGES)
def test_no_equation_wider_than_the_page(book, page):
    # Cut off (or scrolled) at a 1280-pixel-wide window: split it.
    assert book.visit(page)["tooWide"] == []


@pytest.mark.parametrize("page", PAGES)
def test_sidebar_lists_every_chapter(book, page):
    seen = book.visit(page)
    files, captions = toc()
    # The current page's entry links to "#": its path is the page's own.
    listed = set(seen["sidebar"])
    missing = [f for f in files if f"/{f}.html" not in listed]
    assert missing == [], f"sidebar of {page} lacks {missing}"
    assert seen["captions"] == captions


def test_screenshots_saved(book):
    for page in PAGES:
        shot = book.visit(page)["screenshot"]
        assert shot.stat().st_size > 10_000, shot


# -- figures, their numbers and descriptions; chapter numbers ---------------

IMAGE_FILE = re.compile(r"\.(svg|png|jpe?g|gif|webp)$", re.I)
CHAPTER = re.compile(r"^book/(\d\d)_\w+\.html$")


def figure_problems(seen):
    """Figures without a numbered caption, images without a description.

    Sphinx writes the image's URI as its ``alt`` when none is given, so an
    alt that is a file name counts as none.
    """
    problems = []
    for figure in seen["figures"]:
        name = figure["id"] or figure["caption"][:40]
        if not re.fullmatch(r"Fig\. \d+(\.\d+)?", figure["number"]):
            problems.append(f"figure {name}: no number in its caption "
                            f"({figure['number']!r})")
        if not figure["caption"].removeprefix(figure["number"]).strip():
            problems.append(f"figure {name}: empty caption")
        if not figure["images"] and not figure.get("text"):
            problems.append(f"figure {name}: no image and no text")
    for image in seen["alts"]:
        alt = (image["alt"] or "").strip()
        if not alt or alt == image["src"] or IMAGE_FILE.search(alt):
            problems.append(f"image {image['src'].rsplit('/', 1)[-1]}: no "
                            f"alt text (alt={image['alt']!r})")
    return problems


def number_problems(page, seen):
    """Chapter numbers that disagree with the file names.

    ``book/03_forget_gate`` is chapter 3: its title and its sidebar entry
    read "3. ...", its figures "Fig. 3.n"; every other page is unnumbered.
    """
    problems = []
    match = CHAPTER.match(page)
    title = " ".join(seen["title"].split()).rstrip("#").strip()
    if match:
        n = int(match.group(1))
        if not title.startswith(f"{n}. "):
            problems.append(f"title {title!r} lacks its number {n}")
        for figure in seen["figures"]:
            if not figure["number"].startswith(f"Fig. {n}."):
                problems.append(f"figure {figure['number']!r} is not "
                                f"numbered in chapter {n}")
    elif re.match(r"^\d+(\.\d+)*\.? ", title):
        problems.append(f"unnumbered page titled {title!r}")
    for path, text in seen["numbered"]:
        entry = CHAPTER.match(path.lstrip("/"))
        text = " ".join(text.split())
        if entry and not text.startswith(f"{int(entry.group(1))}. "):
            problems.append(f"sidebar entry {text!r} for {path}")
        elif not entry and path.endswith(".html") and re.match(r"\d", text):
            problems.append(f"sidebar numbers {path}: {text!r}")
    return problems


@pytest.mark.parametrize("page", PAGES)
def test_every_figure_is_numbered_and_described(book, page):
    # Notebook figures: cell metadata mystnb.image.alt beside
    # mystnb.figure.{caption,name}; Markdown figures: the :alt: option.
    assert figure_problems(book.visit(page)) == []


@pytest.mark.parametrize("page", PAGES)
def test_chapter_numbers_follow_the_files(book, page):
    assert number_problems(page, book.visit(page)) == []


def test_the_figure_and_number_checks_fail_on_broken_copies(book):
    # Break copies of what Chromium saw on chapter 6 and the intro.
    page = "book/06_cnn_lstm.html"
    seen = book.visit(page)
    assert figure_problems(seen) == [] and seen["figures"]
    assert number_problems(page, seen) == []
    src = seen["alts"][0]["src"]
    broken = {**seen, "alts": [{"src": src, "alt": src}, {"src": src,
                                                          "alt": ""}]}
    broken["figures"] = [{**seen["figures"][0], "number": ""},
                         {**seen["figures"][0], "images": [], "text": 0}]
    assert len(figure_problems(broken)) == 4
    renumbered = {**seen, "title": "3. " + seen["title"].split(". ", 1)[1],
                  "figures": [{**seen["figures"][0], "number": "Fig. 6.1.2"}]}
    assert len(number_problems(page, renumbered)) == 1
    assert number_problems("book/03_forget_gate.html", renumbered) == [
        "figure 'Fig. 6.1.2' is not numbered in chapter 3"]
    intro = book.visit("book/intro.html")
    assert number_problems("book/intro.html", {
        **intro, "title": "1. " + intro["title"]}) != []
    shifted = [[p, t.replace("6. ", "5. ")] for p, t in seen["numbered"]]
    assert number_problems(page, {**seen, "numbered": shifted}) != []


def _phone(book, page):
    folder = SHOTS / "phone"
    folder.mkdir(exist_ok=True)
    return book.phone_visit(page, folder)


def test_phone_screenshots_saved(book):
    # The same pages at a phone's width, in _build/screenshots/phone/.
    for page in PAGES:
        shot = _phone(book, page)["screenshot"]
        assert shot.stat().st_size > 10_000, shot


@pytest.mark.parametrize("page", PAGES)
def test_no_equation_clipped_at_phone_width(book, page):
    # Wider than the column at 390 px: split it over lines (aligned).
    assert _phone(book, page)["tooWide"] == []


@pytest.mark.parametrize("page", PAGES)
def test_no_table_wider_than_a_phone(book, page):
    # At 390 px a table's last column would be cut at the screen's edge.
    assert _phone(book, page)["wideTables"] == []


@pytest.mark.parametrize("page", PAGES)
def test_no_output_or_code_scrolls_sideways(book, page):
    # At 1280 px: a wide result becomes a table, a long line is wrapped.
    seen = book.visit(page)
    assert seen["scrolls"] == [] and not seen["pageScrolls"]


@pytest.mark.parametrize("page", PAGES)
def test_no_placeholder_left_in_the_prose(book, page):
    # An unglued name (LM_EPOCHS) or a brace where prose should be.
    assert book.visit(page)["placeholders"] == []


def test_the_layout_checks_fail_on_broken_copies(book):
    page = "book/02_lstm.html"
    for width in (WIDTH, PHONE):
        clean = (book.visit(page) if width == WIDTH
                 else _phone(book, page))
        broken = book.broken_layout(page, width)
        assert len(broken["scrolls"]) > len(clean["scrolls"])
        assert len(broken["tooWide"]) > len(clean["tooWide"])
        assert len(broken["wideTables"]) > len(clean["wideTables"])
        assert broken["placeholders"][len(clean["placeholders"]):] == [
            "both get LM_EPOCHS epochs {glue:text}"]
