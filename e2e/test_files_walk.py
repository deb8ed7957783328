"""Issue 14 in the real app: a new sync set up in the Format section to
deliver Parquet (zstd) cut into parts of 1,000 rows with a manifest and
retention, run from the app, its files read back from disk; then History's
Mark as delivered, which writes no file. Its own app session.
Screenshots: target/screenshots/e2e-files-*.png"""

import json
import os
import pathlib

from selenium.webdriver.common.by import By

from conftest import css, one, shoot, table_rows, tid, type_into, wait

SYNC_ID = "customers-parquet"


def test_the_format_section_sets_parquet_parts_a_manifest_and_retention(driver):
    wait(driver, lambda d: one(d, tid("new-sync")), "the Syncs screen", timeout=60).click()
    type_into(wait(driver, lambda d: one(d, tid("draft-sync-id")), "the sync editor"), SYNC_ID)
    # A fresh profile: the default folder (~/Dropsync) is offered for creation.
    wait(driver, lambda d: one(d, tid("dest-create-folder")), "Create folder").click()
    wait(driver, lambda d: not one(d, tid("dest-warning")).text.strip(), "the folder created")
    one(driver, tid("draft-mode-diff")).click()
    one(driver, tid("draft-format")).find_element(By.CSS_SELECTOR, "option[value='parquet']").click()
    codec = wait(driver, lambda d: one(d, tid("parquet-compression")), "the Parquet codec")
    assert not css(driver, tid("gzip")), "gzip is not offered with Parquet"
    codec.find_element(By.CSS_SELECTOR, "option[value='zstd']").click()
    type_into(one(driver, tid("max-rows-per-file")), "1000")
    one(driver, tid("manifest-on")).click()
    type_into(one(driver, tid("manifest-name")), "parquet/{sync.run.id}.manifest.json")
    type_into(one(driver, tid("keep-runs")), "2")
    type_into(one(driver, tid("filename-input")), "parquet/customers-{sync.run.id}-{part}.parquet")
    wait(
        driver,
        lambda d: one(d, tid("filename-resolved")).text.endswith("customers-1-{part}.parquet")
        or "customers-1-1.parquet" in one(d, "body").text,
        "the part's name",
    )
    save = wait(driver, lambda d: (b := one(d, tid("save-sync"))).is_enabled() and b, "Save enabled")
    shoot(driver, "files-format-section")
    save.click()
    wait(driver, lambda d: one(d, "h1").text == f"{SYNC_ID}.toml", "the new sync's page", timeout=30)


def test_a_run_writes_parquet_parts_and_the_manifest(driver):
    one(driver, "#tab-run").click()
    wait(driver, lambda d: one(d, "#panel button.primary"), "Run now").click()
    result = wait(driver, lambda d: one(d, tid("run-result")), "the run result", timeout=120)
    assert result.find_elements(By.CSS_SELECTOR, ".badge.success"), result.text

    out = pathlib.Path(os.environ["HOME"]) / "Dropsync" / "parquet"
    manifest = json.loads((out / "1.manifest.json").read_text())
    parts = sorted(p.name for p in out.glob("customers-1-*.parquet"))
    # Diff's first run: every row added, in parts; empty changed and removed files.
    added = [f for f in manifest["files"] if f["kind"] == "added"]
    assert len(added) >= 2, manifest
    assert [f["path"] for f in added] == [f"parquet/customers-1-{i}_added.parquet" for i in range(1, len(added) + 1)]
    assert {f["kind"] for f in manifest["files"]} == {"added", "changed", "removed"}
    assert len(parts) == len(manifest["files"]), parts
    assert all(f["rows"] <= 1000 for f in manifest["files"])
    for f in manifest["files"]:
        data = (out.parent / f["path"]).read_bytes()
        assert data[:4] == b"PAR1" and data[-4:] == b"PAR1", f["path"]
        assert len(data) == f["bytes"]

    one(driver, "#tab-history").click()
    table = wait(driver, lambda d: (t := css(d, "#panel table")) and t[0], "the history table")
    runs = table_rows(table)
    assert len(runs) == 1 and runs[0]["Status"] == "Succeeded", runs
    assert "1.manifest.json" in runs[0]["Files"], runs[0]
    shoot(driver, "files-history")


def test_mark_as_delivered_writes_no_file(driver):
    one(driver, tid("mark-delivered")).click()
    confirm = wait(driver, lambda d: one(d, "#mark-delivered-confirm").is_displayed() and one(d, "#mark-delivered-confirm"), "the confirmation")
    assert "without writing any file" in confirm.text, confirm.text
    one(driver, tid("mark-delivered-confirm")).click()
    message = wait(
        driver,
        lambda d: "taken as delivered" in (t := one(d, tid("mark-delivered-message")).text) and t,
        "the message",
        timeout=60,
    )
    assert "no file was written" in message, message
    shoot(driver, "files-mark-delivered")
    out = pathlib.Path(os.environ["HOME"]) / "Dropsync" / "parquet"
    assert not list(out.glob("customers-2*")), sorted(p.name for p in out.iterdir())
