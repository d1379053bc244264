"""Render the built book in headless Chromium: figures must load and no page may request anything off-disk.

`make test` builds the smoke book first and points FTMECH_BOOK_HTML at it; without a built book the test skips
(it cannot check what does not exist), unless FTMECH_BOOK_HTML is set, in which case a missing book fails."""
import os
import shutil
from pathlib import Path

import pytest

HTML = os.environ.get("FTMECH_BOOK_HTML")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
PAGES = {"index.html": 0, "book/runs/data.html": 3, "book/runs/pretrain.html": 2, "book/lib/04_optim.html": 1, "book/lib/05_train.html": 0, "book/lib/06_prune.html": 2, "book/lib/08_plots.html": 7, "book/lib/08a_explore.html": 0, "book/lib/07_probe.html": 0,
         "book/runs/finetune.html": 2, "book/runs/prune.html": 1, "book/runs/probe.html": 1, "book/runs/reft.html": 1,
         "book/runs/indexer.html": 3, "book/runs/appendix.html": 3, "book/runs/claims.html": 0,
         "book/runs/tracr_compile.html": 4, "book/runs/tracr_map.html": 1, "book/runs/tracr_finetune.html": 8, "book/runs/tracr_revival.html": 4,
         "book/lib/11_compiler.html": 0, "book/lib/12_tracr.html": 0,
         "book/runs/stories.html": 4, "book/lib/20_stories.html": 0}  # page -> minimum number of figures


@pytest.fixture(scope="module")
def html_root():
    root = Path(HTML) if HTML else Path(__file__).resolve().parents[1] / "_build" / "smoke" / "_build" / "html"
    if not (root / "index.html").exists():
        if HTML:
            pytest.fail(f"FTMECH_BOOK_HTML={HTML} but {root / 'index.html'} does not exist")
        pytest.skip("no built book: run `make test` (or python -m ftmech.book --profile smoke --out _build/smoke)")
    return root


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"chromium not found at {CHROMIUM}: `make test` installs Debian's chromium")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


@pytest.mark.parametrize("page", sorted(PAGES))
def test_page_renders_offline_with_figures(html_root, browser, page):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout  # importable: the browser fixture checked
    pg = browser.new_page()
    outside: list[str] = []
    failed: list[str] = []
    pg.route("**/*", lambda route: (outside.append(route.request.url), route.abort())
             if not route.request.url.startswith(("file:", "data:")) else route.continue_())
    pg.on("requestfailed", lambda r: failed.append(r.url))
    pending: set[str] = set()  # requests started and not yet finished
    pg.on("request", lambda r: pending.add(r.url))
    pg.on("requestfinished", lambda r: pending.discard(r.url))
    pg.on("requestfailed", lambda r: pending.discard(r.url))
    pg.goto((html_root / page).resolve().as_uri(), wait_until="load")  # every image and script of the page is in
    try:  # then MathJax and other late requests; Chromium has missed "networkidle" on a finished page once (CI-like run)
        pg.wait_for_load_state("networkidle", timeout=20_000)
    except PlaywrightTimeout:
        assert not pending, f"{page}: requests still pending after 20 s: {sorted(pending)}"
    images = pg.eval_on_selector_all("main img", "els => els.map(e => [e.getAttribute('src'), e.naturalWidth])")
    figures = [src for src, width in images if src and src.endswith(".png")]
    broken = [src for src, width in images if not width]
    math = pg.locator("mjx-container").count()
    text = pg.inner_text("main")
    pg.close()
    assert outside == [], f"{page} requested resources outside the local files: {outside}"
    assert [u for u in failed if u.startswith("file:")] == [], f"{page}: missing local files {failed}"
    assert broken == [], f"{page}: images that did not load: {broken}"
    assert len(figures) >= PAGES[page], f"{page}: expected >= {PAGES[page]} figures, found {figures}"
    assert "Traceback" not in text, f"{page} shows an error traceback"
    if page == "index.html":
        assert math > 0, "MathJax did not typeset the introduction's formula (offline MathJax missing?)"


EXPLORERS = {"book/lib/08a_explore.html": 2, "book/runs/prune.html": 1, "book/runs/probe.html": 2, "book/runs/reft.html": 1,
             "book/runs/tracr_finetune.html": 2, "book/runs/stories.html": 1}  # page -> minimum visible panels (ftmech.explore)
EXPERIMENTS = [p for p in PAGES if p.startswith("book/runs/")]


def _visible_panels(pg) -> list[str]:
    "What the reader sees of the explorers now: each visible widget image's source and each visible HTML panel's text."
    return pg.eval_on_selector_all(".jupyter-widgets img, .jupyter-widgets .widget-html-content",
                                   "els => els.filter(e => e.checkVisibility())"
                                   ".map(e => e.tagName === 'IMG' ? e.getAttribute('src') : e.innerText)")


def _move_first_control(pg) -> None:
    "Change the first explorer control that has a choice, the way a reader would (click, arrow key or selection)."
    controls = pg.locator(".widget-toggle-buttons, .widget-slider, .widget-dropdown")
    for i in range(controls.count()):
        control = controls.nth(i)
        kind = control.get_attribute("class") or ""
        if "widget-toggle-buttons" in kind:
            idle = control.locator("button:not(.mod-active)")
            if idle.count():
                idle.first.click()
                return
        elif "widget-slider" in kind:
            control.locator(".noUi-handle, .ui-slider-handle").first.focus()
            pg.keyboard.press("ArrowRight")
            return
        elif control.locator("option").count() > 1:
            control.locator("select").select_option(index=1)
            return
    raise AssertionError("no explorer control with more than one choice on the page")


@pytest.mark.parametrize("page", sorted(EXPLORERS))
def test_explorers_work_without_a_kernel(html_root, browser, page):
    "The saved widget state renders offline, and moving a control changes the panel the reader sees."
    pg = browser.new_page()
    outside: list[str] = []
    pg.route("**/*", lambda route: (outside.append(route.request.url), route.abort())
             if not route.request.url.startswith(("file:", "data:", "blob:")) else route.continue_())
    pg.goto((html_root / page).resolve().as_uri(), wait_until="load")
    pg.wait_for_function("document.querySelectorAll('.jupyter-widgets img, .jupyter-widgets .widget-html-content')"
                         ".length > 0", timeout=20_000)
    before = _visible_panels(pg)
    _move_first_control(pg)
    pg.wait_for_timeout(300)
    after = _visible_panels(pg)
    text = pg.inner_text("main")
    pg.close()
    assert outside == [], f"{page} requested resources outside the local files: {outside}"
    assert "Loading widget" not in text and "Error displaying widget" not in text, f"{page}: a widget did not render"
    assert len(before) >= EXPLORERS[page], f"{page}: {len(before)} visible explorer panels, expected >= {EXPLORERS[page]}"
    assert before != after, f"{page}: moving the first control did not change the visible panel"


@pytest.mark.parametrize("page", EXPERIMENTS)
def test_experiment_pages_show_results_not_setup(html_root, browser, page):
    "Parameters, code and progress bars are collapsed behind toggles (still in the page); prose and results are in view."
    pg = browser.new_page()
    pg.goto((html_root / page).resolve().as_uri(), wait_until="load")
    pg.wait_for_timeout(500)
    shown = lambda sel: pg.eval_on_selector_all(sel, "els => els.filter(e => e.checkVisibility()).length")
    counts = {"code": shown(".cell_input"), "progress bars": shown(".widget-progress, .widget-hprogress"),
              "collapsed": pg.locator(".cell_input").count(), "outputs": shown(".cell_output")}
    pg.close()
    assert counts["code"] == 0 and counts["progress bars"] == 0, f"{page}: visible setup {counts}"
    assert counts["collapsed"] > 0 and counts["outputs"] > 0, f"{page}: no collapsed code or no visible output {counts}"


def test_claims_link_to_the_sections_that_show_them(html_root, browser):
    "Every claim with measurements links to a chapter, and every link to a section lands on an existing heading."
    pg = browser.new_page()
    pg.goto((html_root / "book/runs/claims.html").resolve().as_uri(), wait_until="load")
    hrefs = pg.eval_on_selector_all("main table a[href]", "els => els.map(e => e.href)")
    anchors: dict[str, set[str]] = {}
    for href in hrefs:
        page, _, anchor = href.partition("#")
        if anchor:
            anchors.setdefault(page, set()).add(anchor)
    missing = []
    for page, ids in anchors.items():
        pg.goto(page, wait_until="load")
        missing += [f"{page.rsplit('/', 1)[-1]}#{i}" for i in ids if not pg.evaluate("i => !!document.getElementById(i)", i)]
    pg.close()
    assert any(h.endswith("finetune.html") for h in hrefs), "the claims page links no chapter"
    assert sum(map(len, anchors.values())) >= 5, f"too few section links: {anchors}"
    assert missing == [], f"links to sections that do not exist: {missing}"
