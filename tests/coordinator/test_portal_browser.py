"""The portal in a real browser (Debian's chromium via playwright), JavaScript off.

Starts the portal under uvicorn on a free loopback port, follows every link of every page
(none may answer 4xx/5xx), and checks that the plots render as SVG with a real size.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from urllib.parse import urljoin, urlparse

import pytest

from tests.coordinator.portal_home import (
    MODEL_ID,
    PortalServer,
    PortalWorld,
    shared_portal_home,
)

CHROMIUM = os.environ.get("GCDT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PortalServer, PortalWorld]]:
    world = shared_portal_home(tmp_path_factory)
    server = PortalServer(world.settings).start()
    try:
        yield server, world
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure-chromium.sh")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def test_every_link_resolves_and_plots_render(
    portal: tuple[PortalServer, PortalWorld], browser: object
) -> None:
    server, world = portal
    context = browser.new_context(java_script_enabled=False)  # type: ignore[attr-defined]
    page = context.new_page()
    origin = urlparse(server.url).netloc
    visited: dict[str, int] = {}
    pages = [server.url + "/"]
    while pages:
        url = pages.pop()
        if url in visited:
            continue
        response = page.goto(url)
        assert response is not None
        visited[url] = response.status
        assert response.status < 400, f"{url} -> {response.status}"
        assert page.locator("h1").count() == 1, f"{url} needs exactly one h1"
        for href in [a.get_attribute("href") for a in page.locator("a[href]").all()]:
            target = urljoin(url, href or "")
            parsed = urlparse(target)
            if parsed.netloc != origin or target.split("#")[0] in visited:
                continue
            target = target.split("#")[0]
            if parsed.path.startswith("/api") or parsed.path.startswith("/static"):
                status = context.request.get(target).status
                visited[target] = status
                assert status < 400, f"{target} (linked from {url}) -> {status}"
            else:
                pages.append(target)
    for path in (
        "/",
        "/models",
        "/benchmarks",
        "/nodes",
        "/rounds",
        "/log",
        "/api/export",
        f"/models/{MODEL_ID}/{world.version}",
        f"/benchmarks/{world.benchmark_id}",
        "/api/log/bundle",
    ):
        assert server.url + path in visited, f"{path} is not linked from the portal"

    for path, chart in (
        (f"/benchmarks/{world.benchmark_id}", "benchmark-intensity"),
        (f"/models/{MODEL_ID}/{world.version}", "model-error"),
        ("/rounds", "privacy-spend"),
    ):
        page.goto(server.url + path)
        svg = page.locator(f"svg#{chart}")
        assert svg.count() == 1, f"{path}: no {chart} chart"
        box = svg.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 50, (path, box)
        assert svg.locator("rect, polyline").count() > 0, f"{path}: {chart} draws nothing"
        assert page.locator("table caption").count() >= 1
    context.close()
