"""The approver's page in a real browser (Debian's Chromium driven by Playwright) against
the cloud API served over HTTP: the queue with the predicted films, approve, reject."""

from __future__ import annotations

import shutil
import threading
import time

import pytest

from cloud_brain.db import open_database
from cloud_brain.recipe_store import RecipeStore
from cloud_brain.service import create_app
from cloud_brain.users import User, add_user
from tests.factories import recipe_text
from tests.http_client import free_port

from .conftest import KEY

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def served(tmp_path):
    import uvicorn

    engine = open_database(sqlite_path=tmp_path / "cloud.db")
    tokens = {
        name: add_user(engine, name, role)
        for name, role in (("eve", "engineer"), ("ann", "approver"))
    }
    store = RecipeStore(engine, KEY)
    store.submit(recipe_text(1), User("eve", "engineer"))
    store.submit(
        recipe_text(1, recipe_id="door-black", finish="black-matt"), User("eve", "engineer")
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(engine, KEY), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the cloud API did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", tokens, store
    server.should_exit = True
    thread.join(10)
    engine.dispose()


def test_an_approver_reviews_the_queue_in_the_browser(served, tmp_path) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, tokens, store = served
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{base}/ui/")
        expect(page.locator("#message")).to_have_text("Sign in with your token.")
        page.fill("#token", tokens["ann"])
        page.click("#signin button")
        queue = page.locator("#queue tbody tr")
        expect(queue).to_have_count(2)
        expect(page.locator("#count")).to_have_text("(2)")
        white = page.locator('#queue tr[data-recipe="door-white/1"]')
        expect(white).to_contain_text("white-gloss")
        # the predicted film is drawn and shown
        film = white.locator("img.film")
        expect(film).to_be_visible(timeout=30_000)
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 600", arg=film.element_handle()
        )
        page.screenshot(path=str(tmp_path / "queue.png"))
        white.locator("button.approve").click()
        expect(page.locator("#message")).to_have_text("door-white v1 approved and signed")
        done = page.locator('#decided tr[data-recipe="door-white/1"]')
        expect(done.locator("td.status-approved")).to_have_text("approved")
        expect(done).to_contain_text(KEY.key_id)
        # a rejection needs a reason: the API's answer is shown and nothing changes
        black = page.locator('#queue tr[data-recipe="door-black/1"]')
        black.locator("button.reject").click()
        expect(page.locator("#message")).to_contain_text("reason")
        assert store.get("door-black", 1)["status"] == "pending"
        black = page.locator('#queue tr[data-recipe="door-black/1"]')
        black.locator("input.reason").fill("sags on the lower edge")
        black.locator("button.reject").click()
        expect(page.locator('#decided tr[data-recipe="door-black/1"]')).to_contain_text(
            "sags on the lower edge"
        )
        expect(queue).to_have_count(0)
        browser.close()
    assert store.get("door-white", 1)["decided_by"] == "ann"
    assert store.get("door-black", 1)["status"] == "rejected"


def test_an_engineer_cannot_approve_from_the_page(served) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, tokens, store = served
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(f"{base}/ui/")
        page.fill("#token", tokens["eve"])
        page.click("#signin button")
        row = page.locator('#queue tr[data-recipe="door-white/1"]')
        row.locator("button.approve").click()
        expect(page.locator("#message")).to_contain_text("authorization")
        expect(page.locator("#message")).to_have_class("error")
        browser.close()
    assert store.get("door-white", 1)["status"] == "pending"
