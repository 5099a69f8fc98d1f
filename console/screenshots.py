"""`python -m console.screenshots [--console URL] [--out docs/screenshots]`: one PNG per role.

Signs in to a running console (e.g. after `make run`) with each development key in
headless Chromium (Debian's `chromium`, `CHROMIUM` to override) and saves the role's
home page. Small on purpose: a 1000 px wide viewport, the page's top 900 px.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# role → (key, page, link on it to follow if there is one)
ROLES = {
    "clerk": ("dev-clerk", "/review", None),
    "cs_agent": ("dev-cs_agent", "/orders", "table.orders tbody a"),
    "cs_supervisor": ("dev-cs_supervisor", "/aftersales", None),
    "ops": ("dev-ops", "/stops", "table a[href^='/stops/']"),
    "admin": ("dev-admin", "/lifecycle", None),
    "scanner": ("dev-scanner-WH-OWN-1", "/warehouses/WH-OWN-1", None),
}


def take(
    console: str, out: Path, pages: dict[str, tuple[str, str, str | None]] = ROLES
) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    saved = []
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
        browser = pw.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=ARGS,
            viewport={"width": 1000, "height": 900},
        )
        for role, (key, path, follow) in pages.items():
            page = browser.new_page()
            page.goto(f"{console}/signin")
            page.fill("input[name=key]", key)
            page.click("button[type=submit]")
            page.wait_for_selector(".role")
            page.goto(console + path)
            if follow and page.locator(follow).count():
                page.locator(follow).last.click()
                page.wait_for_load_state()
            target = out / f"{role}.png"
            page.screenshot(path=str(target), clip={"x": 0, "y": 0, "width": 1000, "height": 900})
            saved.append(target)
            page.context.clear_cookies()
            page.close()
        browser.close()
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--console", default="http://127.0.0.1:8000")
    parser.add_argument("--out", default="docs/screenshots")
    args = parser.parse_args()
    for path in take(args.console.rstrip("/"), Path(args.out)):
        print(f"{path} {path.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main()
