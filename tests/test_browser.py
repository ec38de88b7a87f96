"""The site as a reader meets it: every page opened in headless Chromium, served from this machine.

The built site (`built_site`) is served by a local ``http.server`` on 127.0.0.1. Debian's
Chromium, driven by Selenium through Debian's ChromeDriver (nothing here downloads a browser),
starts at ``index.html`` and follows the sidebar navigation; then it opens the pages no sidebar
links (the index and search pages). On every page it checks what a reader would notice:

* the page loads: ``document.readyState`` is complete and no request to the site fails (HTTP >= 400);
* no SEVERE message on the browser console;
* every ``<img>`` has loaded (``naturalWidth > 0``), figures included;
* no error output is shown: no stderr or traceback cell output, no "Traceback" text, no MathJax
  error, and where the page has math MathJax has typeset it;
* offline reading: the Chrome DevTools performance log records every request the page makes,
  and none goes to a host other than this machine.

Chapters (``book/NN-…`` with NN < 90) must also open with the seed rows they cover and end with
their verdict. A full-page screenshot of every page lands in ``_build/screenshots/`` for a person
to look at, with ``summary.json`` (pages, figures, requests counted).

Chromium runs with ``--host-resolver-rules`` that resolve no host but the local one, so a page
that did reference another host would be counted here without any traffic leaving the machine.
"""

from __future__ import annotations

import base64
import functools
import http.server
import json
import re
import shutil
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

import pytest
import yaml

pytestmark = pytest.mark.site

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
NETWORK_SCHEMES = {"http", "https", "ws", "wss", "ftp"}
SEED_ROW = re.compile(r"\b[EC]\d{3}-\d+[a-e]?\b")  # a row (E004-4) or a claim part (C004-1d)
SCREENSHOT_MAX_HEIGHT = 8000
PAGE_TIMEOUT_S = 30


def is_external(url: str) -> bool:
    """Return True when loading ``url`` would go over the network to a host other than this machine."""
    parts = urlparse(url)
    return parts.scheme in NETWORK_SCHEMES and (parts.hostname or "") not in LOCAL_HOSTS


def toc_files(root: Path) -> list[str]:
    """Return every document listed in _toc.yml (root first), as paths without suffix."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))
            for part in entry.get("parts", []):
                walk(part.get("chapters"))

    walk(toc.get("chapters"))
    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    return files


def chapter_files(root: Path) -> list[str]:
    """Return the toc documents that are chapters: ``book/NN-slug/…`` with NN below 90."""
    return [f for f in toc_files(root) if (m := re.match(r"book/(\d\d)-", f)) and int(m.group(1)) < 90]


# --- the local server ------------------------------------------------------------------------

class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="module")
def site_url(built_site):
    handler = functools.partial(_QuietHandler, directory=str(built_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


# --- the browser -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    assert not missing, (f"{missing} not found: install Debian's chromium and chromium-driver "
                         "(`make site` does: apt-get install -y chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-extensions", "--disable-default-apps", "--no-first-run",
                "--no-default-browser-check", "--window-size=1280,900",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(PAGE_TIMEOUT_S)
    driver.set_script_timeout(PAGE_TIMEOUT_S)
    try:
        yield driver
    finally:
        driver.quit()


# --- one page --------------------------------------------------------------------------------

@dataclass
class Page:
    """What the browser saw on one page."""

    path: str
    final_path: str = ""
    ready_state: str = ""
    console_errors: list[str] = field(default_factory=list)
    images: list[tuple[str, int]] = field(default_factory=list)
    figures: int = 0
    error_outputs: list[str] = field(default_factory=list)
    math_nodes: int = 0
    math_typeset: int = 0
    math_errors: int = 0
    requests: list[str] = field(default_factory=list)
    failed: list[tuple[str, int]] = field(default_factory=list)
    sidebar_links: list[str] = field(default_factory=list)
    intro_text: str = ""
    last_heading: str = ""
    screenshot: str = ""


PAGE_STATE_JS = """
const article = document.querySelector('main article, article.bd-article, main') || document.body;
const imgs = Array.from(document.images);
const outputs = Array.from(document.querySelectorAll(
    '.output.stderr, .output.traceback, .output.error, .cell_output .stderr, .cell_output .traceback'));
const h1 = article.querySelector('h1');
let intro = '';
if (h1) {
  // the text of the page's first section before its first sub-heading
  const section = h1.closest('section') || article;
  for (const node of section.children) {
    if (node.tagName === 'SECTION' || /^H[2-6]$/.test(node.tagName)) break;
    intro += ' ' + node.innerText;
  }
}
const headings = Array.from(article.querySelectorAll('h2, h3, h4'))
    .map(h => h.innerText.replace(/[#¶]/g, '').trim()).filter(t => t);
const sidebar = Array.from(document.querySelectorAll('nav.bd-links a[href], .bd-sidenav a[href], a.navbar-brand[href]'))
    .map(a => a.href);
return {
  readyState: document.readyState,
  images: imgs.map(i => [i.currentSrc || i.src, i.naturalWidth]),
  figures: Array.from(article.querySelectorAll('img')).length,
  errorOutputs: outputs.map(o => o.innerText.slice(0, 300)),
  traceback: ((() => { const a = article.cloneNode(true); a.querySelectorAll('.doctest').forEach(d => d.remove());
                       return a.textContent; })().match(/Traceback \\(most recent call last\\)/g) || []).length,
  mathNodes: article.querySelectorAll('.math').length,
  mathTypeset: article.querySelectorAll('mjx-container').length,
  mathErrors: article.querySelectorAll('mjx-merror').length,
  sidebar: sidebar,
  intro: intro.trim(),
  lastHeading: headings.length ? headings[headings.length - 1] : '',
};
"""

SETTLE_JS = """
const done = arguments[arguments.length - 1];
const waits = [];
if (window.MathJax && MathJax.startup && MathJax.startup.promise) waits.push(MathJax.startup.promise);
for (const img of document.images) {
  img.loading = 'eager';
  if (!img.complete)
    waits.push(new Promise(r => { img.addEventListener('load', r); img.addEventListener('error', r); }));
}
if (document.fonts) waits.push(document.fonts.ready);
Promise.all(waits).then(() => done(true), () => done(false));
"""


def _network_events(driver):
    """Return (requested URLs, [(URL, status)] of responses) from the DevTools log since the last call."""
    requested, responses = [], []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message.get("method") == "Network.requestWillBeSent":
            requested.append(params["request"]["url"])
        elif message.get("method") == "Network.responseReceived":
            responses.append((params["response"]["url"], int(params["response"]["status"])))
        elif message.get("method") == "Network.webSocketCreated":
            requested.append(params["url"])
    return requested, responses


def _wait_ready(driver, timeout=PAGE_TIMEOUT_S):
    deadline = time.monotonic() + timeout
    while driver.execute_script("return document.readyState") != "complete":
        assert time.monotonic() < deadline, f"{driver.current_url} did not finish loading"
        time.sleep(0.05)


def _screenshot(driver, target: Path) -> None:
    """Save a screenshot of the whole page (up to SCREENSHOT_MAX_HEIGHT px) as a reader's window would show it."""
    size = driver.execute_script("return [document.documentElement.clientWidth, "
                                 "Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)]")
    width, height = size[0], min(size[1], SCREENSHOT_MAX_HEIGHT)
    # a window as tall as the page, so that the sticky sidebars are laid out as on screen
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
    try:
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    target.write_bytes(base64.b64decode(shot["data"]))


def visit(driver, base: str, path: str, shots: Path) -> Page:
    """Open ``path`` of the site, wait until it has settled, and return what the browser saw."""
    page = Page(path=path)
    driver.get_log("performance"), driver.get_log("browser")  # drop what earlier pages left
    driver.get(urljoin(base, path))
    _wait_ready(driver)
    # a meta-refresh page (index.html) moves on by itself: follow it
    if driver.execute_script("return !!document.querySelector('meta[http-equiv=refresh]')"):
        deadline = time.monotonic() + PAGE_TIMEOUT_S
        while urldefrag(driver.current_url)[0] == urljoin(base, path):
            assert time.monotonic() < deadline, f"{path}: its meta refresh never redirected"
            time.sleep(0.05)
        _wait_ready(driver)
    driver.execute_async_script(SETTLE_JS)
    time.sleep(0.2)  # let late requests (fonts MathJax asked for) show up in the log
    state = driver.execute_script(PAGE_STATE_JS)
    page.final_path = urlparse(urldefrag(driver.current_url)[0]).path.lstrip("/") or "index.html"
    page.ready_state = state["readyState"]
    page.images = [tuple(i) for i in state["images"]]
    page.figures = state["figures"]
    page.error_outputs = state["errorOutputs"] + ["Traceback (most recent call last)"] * state["traceback"]
    page.math_nodes, page.math_typeset, page.math_errors = state["mathNodes"], state["mathTypeset"], state["mathErrors"]
    page.sidebar_links = state["sidebar"]
    page.intro_text = state["intro"]
    page.last_heading = state["lastHeading"]
    requested, responses = _network_events(driver)
    page.requests = requested
    page.failed = [(url, status) for url, status in responses if status >= 400]
    page.console_errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    target = shots / (page.final_path.replace("/", "__").removesuffix(".html") + ".png")
    _screenshot(driver, target)
    page.screenshot = str(target)
    return page


def _site_path(base: str, url: str) -> str | None:
    """Return the site-relative path of an HTML page ``url`` of the site, else None."""
    url = urldefrag(url)[0]
    if not url.startswith(base):
        return None
    path = url[len(base):] or "index.html"
    return path if path.endswith(".html") else None


@pytest.fixture(scope="module")
def crawl(built_site, site_url, browser):
    """Crawl the site from index.html along the sidebar, then open every other page; return {path: Page}."""
    shots = built_site.parent / "screenshots"
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    started = time.monotonic()
    pages: dict[str, Page] = {}
    reached_by_navigation: set[str] = set()
    queue, seen = deque(["index.html"]), {"index.html"}
    while queue:
        path = queue.popleft()
        page = visit(browser, site_url, path, shots)
        pages[path] = page
        reached_by_navigation |= {path, page.final_path}
        seen.add(page.final_path)
        for link in page.sidebar_links:
            target = _site_path(site_url, link)
            if target and target not in seen:
                seen.add(target)
                queue.append(target)
    others = sorted(p.relative_to(built_site).as_posix() for p in built_site.rglob("*.html")
                    if p.relative_to(built_site).parts[0] not in ("_static", "_sources", "_images"))
    for path in others:
        if path not in seen:
            pages[path] = visit(browser, site_url, path, shots)
            seen.add(path)
    summary = {
        "pages": len(pages),
        "pages_reached_from_front_page": len(reached_by_navigation),
        "images": sum(len(p.images) for p in pages.values()),
        "figures_in_content": sum(p.figures for p in pages.values()),
        "math_typeset": sum(p.math_typeset for p in pages.values()),
        "requests": sum(len(p.requests) for p in pages.values()),
        "external_requests": sum(is_external(u) for p in pages.values() for u in p.requests),
        "seconds": round(time.monotonic() - started, 1),
        "per_page": {path: asdict(p) for path, p in pages.items()},
    }
    (shots / "summary.json").write_text(json.dumps(summary, indent=1))
    print(f"\nbrowser test: {summary['pages']} pages, {summary['images']} images "
          f"({summary['figures_in_content']} in page content), {summary['requests']} requests, "
          f"{summary['external_requests']} external, {summary['seconds']} s; screenshots in {shots}")
    return {"pages": pages, "reached": reached_by_navigation, "shots": shots}


# --- the checks ------------------------------------------------------------------------------

def test_is_external_tells_local_from_remote():
    assert is_external("https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js")
    assert is_external("http://fonts.googleapis.com/css")
    assert is_external("wss://example.org/socket")
    assert not is_external("http://127.0.0.1:8000/_static/mathjax/tex-chtml.js")
    assert not is_external("http://localhost:8000/index.html")
    assert not is_external("data:image/png;base64,iVBORw0KGgo=")
    assert not is_external("blob:http://127.0.0.1:8000/1234")


def test_navigation_from_the_front_page_reaches_every_toc_page(root, crawl):
    expected = {f"{f}.html" for f in toc_files(root)}
    missed = expected - crawl["reached"]
    assert not missed, f"not reachable from index.html through the sidebar: {sorted(missed)}"


def test_every_page_loads(crawl):
    bad = {p: (page.ready_state, page.failed) for p, page in crawl["pages"].items()
           if page.ready_state != "complete" or page.failed}
    assert not bad, f"pages that did not load cleanly (readyState, failed requests): {bad}"


def test_no_console_errors(crawl):
    errors = {p: page.console_errors for p, page in crawl["pages"].items() if page.console_errors}
    assert not errors, f"SEVERE console messages: {errors}"


def test_every_image_has_loaded(crawl):
    broken = {p: [src for src, width in page.images if width <= 0] for p, page in crawl["pages"].items()}
    broken = {p: srcs for p, srcs in broken.items() if srcs}
    assert not broken, f"images with naturalWidth 0: {broken}"


def test_no_error_output_is_shown(crawl):
    shown = {p: page.error_outputs for p, page in crawl["pages"].items() if page.error_outputs}
    assert not shown, f"error output on the page: {shown}"


def test_math_is_typeset_locally(crawl):
    pages = crawl["pages"].values()
    assert any(page.math_nodes for page in pages), "no page has math: the MathJax check checked nothing"
    untypeset = {p.path: (p.math_nodes, p.math_typeset) for p in pages if p.math_nodes and not p.math_typeset}
    assert not untypeset, f"math that MathJax did not typeset (nodes, typeset): {untypeset}"
    errors = {p.path: p.math_errors for p in pages if p.math_errors}
    assert not errors, f"MathJax errors: {errors}"


def test_no_request_leaves_the_machine(crawl):
    pages = crawl["pages"]
    local = sum(not is_external(u) for page in pages.values() for u in page.requests)
    assert local >= len(pages), "the DevTools log recorded fewer requests than pages: the count is not working"
    external = {p: [u for u in page.requests if is_external(u)] for p, page in pages.items()}
    external = {p: urls for p, urls in external.items() if urls}
    assert not external, f"requests to other hosts: {external}"


def test_chapters_open_with_their_seed_rows_and_end_with_verdicts(root, crawl):
    pages = {page.final_path: page for page in crawl["pages"].values()}
    problems = {}
    for chapter in chapter_files(root):
        page = pages.get(f"{chapter}.html")
        if page is None:
            problems[chapter] = "the browser never reached it"
        elif not SEED_ROW.search(page.intro_text):
            problems[chapter] = "its opening (before the first section) names no seed row E…/C…"
        elif "verdict" not in page.last_heading.lower():
            problems[chapter] = f"its last section is {page.last_heading!r}, not the verdict(s)"
    assert not problems, problems


def test_a_screenshot_of_every_page(crawl):
    for page in crawl["pages"].values():
        shot = Path(page.screenshot)
        assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", page.path
