"""Screenshots of the built site with headless Chromium (``make docs-check``).

Takes a screenshot of the landing page, one API page and one gallery page into
docs/_build/screenshots/ and fails when a page renders blank. Without a ``chromium`` binary it
says so and exits 0 (the HTML checks of tests/test_docs_site.py still run).
"""

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SITE = Path(__file__).resolve().parent / "_build" / "html"
OUT = SITE.parent / "screenshots"
# page, and the window height: tall enough for the gallery page's figure
PAGES = {
    "landing": ("index.html", 1000),
    "api": ("api/generated/sklearn_fairloss.FairLossClassifier.html", 1400),
    "gallery": ("auto_examples/plot_fair_credit_german.html", 3600),
}
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--no-first-run", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars"]


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def is_blank(png):
    """True when the picture is one flat colour (a page that did not render)."""
    import matplotlib.image

    pixels = matplotlib.image.imread(png)
    return float(pixels[..., :3].std()) < 0.01


def screenshot(chromium, page, png, height):
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([chromium, *FLAGS, f"--window-size=1366,{height}",
                        f"--user-data-dir={profile}",
                        f"--screenshot={png}", page.as_uri()],
                       capture_output=True, timeout=120, check=False)
    return png.is_file() and png.stat().st_size > 0


def main():
    chromium = find_chromium()
    if chromium is None:
        print("docs-check: no chromium found, screenshots skipped "
              "(apt-get install -y chromium to take them)")
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    failed = []
    for name, (relative, height) in PAGES.items():
        page = SITE / relative
        png = OUT / f"{name}.png"
        png.unlink(missing_ok=True)
        if not page.is_file():
            failed.append(f"{relative}: not built")
            continue
        ok = screenshot(chromium, page, png, height) or screenshot(chromium, page, png, height)
        if not ok:
            failed.append(f"{relative}: chromium wrote no screenshot")
        elif is_blank(png):
            failed.append(f"{relative}: the screenshot is blank")
        else:
            print(f"docs-check: {png.relative_to(SITE.parent.parent.parent)}")
    for line in failed:
        print(f"docs-check: FAILED {line}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
