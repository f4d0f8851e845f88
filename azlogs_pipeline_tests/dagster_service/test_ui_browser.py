"""The asset graph in a real headless Chromium: a screenshot artifact, and the project's assets
on the page."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from azlogs_pipeline.assets.normalize import normalized_tables
from azlogs_pipeline_tests.dagster_service.conftest import SeededService

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chromium(url: str, *action: str, window: str = "1400,900") -> str:
    """Run headless Chromium on ``url`` with one action (--screenshot or --dump-dom); its stdout."""
    if shutil.which(CHROMIUM) is None:
        raise RuntimeError(
            f"{CHROMIUM} is missing. Install Debian's chromium package (`apt-get install -y "
            "chromium`; `make test` does it when run as root)."
        )
    with tempfile.TemporaryDirectory(prefix="azlogs-chromium-") as profile:
        command = [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            f"--user-data-dir={profile}",
            f"--window-size={window}",
            "--virtual-time-budget=20000",
            *action,
            url,
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=profile)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def assert_png(path: Path) -> None:
    image = path.read_bytes()
    assert image.startswith(PNG_SIGNATURE), path
    width, height = int.from_bytes(image[16:20], "big"), int.from_bytes(image[20:24], "big")
    assert (width, height) == (1400, 900)
    assert len(image) > 20_000, "a blank page compresses to a few kB"


@pytest.mark.timeout(400)
def test_asset_graph_and_catalog_pages_show_the_project_assets(
    seeded_service: SeededService,
) -> None:
    """The global lineage page draws the groups (it collapses them when there are many
    assets, and draws only the nodes in view), so the asset names are read off the catalog."""
    url = seeded_service.dagster.url
    ARTIFACTS.mkdir(exist_ok=True)
    graph_png, catalog_png = ARTIFACTS / "asset-graph.png", ARTIFACTS / "asset-catalog.png"
    for artifact in (graph_png, catalog_png):
        artifact.unlink(missing_ok=True)

    chromium(f"{url}/asset-groups", f"--screenshot={graph_png}")
    graph_dom = chromium(f"{url}/asset-groups", "--dump-dom")
    chromium(f"{url}/assets", f"--screenshot={catalog_png}")
    # The catalog renders only the rows in view: a tall window puts them all in the DOM.
    catalog_dom = chromium(f"{url}/assets", "--dump-dom", window="1400,4000")

    assert_png(graph_png)
    assert_png(catalog_png)
    for group in ("ingest", "tables"):
        assert f">{group}<" in graph_dom, f"group {group} is not on the asset graph"
    for name in ["raw_events", *(key.path[-1] for key in normalized_tables.keys)]:
        assert f">{name}<" in catalog_dom, f"{name} is not in the asset catalog"
    assert "Join the Dagster community" not in graph_dom, "dagster.yaml turns the pop-up off"
