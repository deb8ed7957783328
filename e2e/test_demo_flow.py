"""The demo workspace, end to end in the real app: Syncs -> customers-diff ->
Check -> Preview -> Run now -> History -> Syncs, then the files on disk.

The steps share one app session and run in file order; each one starts from the
screen the previous one left."""


from selenium.webdriver.common.by import By

from conftest import css, one, shoot, table_rows, wait

DEMO_SYNCS = ["demo-customers-all", "demo-customers-diff", "demo-orders-insert"]
DIFF = "demo-customers-diff"
OUTPUT_COLUMNS = ["customer_id", "full_name", "Email", "region"]
CUSTOMERS = 2500


def panel_text(d):
    return one(d, "#panel").text


def open_tab(d, tab):
    one(d, f"#tab-{tab}").click()
    wait(d, lambda d: one(d, f"#tab-{tab}").get_attribute("aria-selected") == "true", f"the {tab} tab")


def no_loading(d):
    return not css(d, "#panel .loading")


def test_syncs_lists_the_demo(driver):
    rows = wait(
        driver,
        lambda d: len(r := css(d, "table.syncs tbody tr[data-testid^='sync-']")) == 3 and r,
        "the three demo syncs",
        timeout=60,  # first start creates the demo database
    )
    assert sorted(r.get_attribute("data-testid") for r in rows) == [f"sync-{s}" for s in DEMO_SYNCS]
    for s in DEMO_SYNCS:
        status = one(driver, f"[data-testid='sync-{s}'] [data-testid='last-status']")
        assert "Never run" in status.text
    assert one(driver, "h1").text == "Syncs"
    assert "demo workspace" in one(driver, "main").text
    shoot(driver, "syncs")


def test_check_shows_columns(driver):
    one(driver, f"button[aria-label='Open sync {DIFF}']").click()
    wait(driver, lambda d: one(d, "h1").text == "customers-diff.toml", "the sync screen")
    assert one(driver, "#tab-check").get_attribute("aria-selected") == "true"
    wait(driver, lambda d: "The sync is valid" in panel_text(d), "the check result")
    panel = one(driver, "#panel")
    # "Columns in the files": the mapped output header, in order.
    out = panel.find_element(By.XPATH, ".//h2[.='Columns in the files']/following-sibling::p[1]")
    assert [c.text for c in out.find_elements(By.TAG_NAME, "code")] == OUTPUT_COLUMNS
    # "Columns the model returns": one row per column of `SELECT * FROM customers`.
    cols = table_rows(panel.find_element(By.CSS_SELECTOR, "table"))
    names = [r["Column"] for r in cols]
    for c in ["id", "first_name", "last_name", "email", "country"]:
        assert c in names, names
    assert all(r["Seen in the data"] for r in cols)
    facts = panel.find_element(By.CSS_SELECTOR, "dl.facts").text
    assert "2,500" in facts and "id" in facts
    shoot(driver, "check")


def test_preview_shows_three_files(driver):
    open_tab(driver, "preview")
    files = wait(driver, lambda d: len(f := css(d, "#panel article.file")) == 3 and f, "three preview files")
    by_name = {}
    for f in files:
        path = f.find_element(By.CSS_SELECTOR, "h2 code").text
        by_name[path.rsplit("/", 1)[-1]] = (path, f)
    assert sorted(by_name) == ["customers_added.csv", "customers_changed.csv", "customers_removed.csv"]
    assert "2,500 added, 0 changed, 0 removed" in panel_text(driver)

    _, added = by_name["customers_added.csv"]
    assert "2,500 rows" in added.find_element(By.CSS_SELECTOR, "h2 .muted").text
    table = added.find_element(By.CSS_SELECTOR, "table")
    assert [th.text for th in table.find_elements(By.CSS_SELECTOR, "thead th")] == OUTPUT_COLUMNS
    rows = table_rows(table)
    assert len(rows) == 20  # the app asks for the first 20
    assert table.find_element(By.TAG_NAME, "caption").text == "First 20 of 2,500 rows"
    assert all(r["region"] == "EMEA" and "@" in r["Email"] and r["customer_id"] for r in rows)
    for name in ["customers_changed.csv", "customers_removed.csv"]:
        _, f = by_name[name]
        assert "0 rows" in f.find_element(By.CSS_SELECTOR, "h2 .muted").text
        assert "No rows." in f.text
    shoot(driver, "preview")


def test_run_now_succeeds(driver):
    open_tab(driver, "run")
    button = wait(driver, lambda d: one(d, "#panel button.primary"), "the Run now button")
    assert button.text == "Run now"
    button.click()
    result = wait(driver, lambda d: one(d, "[data-testid='run-result']"), "the run result", timeout=120)
    assert result.find_elements(By.CSS_SELECTOR, ".badge.success"), result.text
    assert "Run #1: 2,500 added, 0 changed, 0 removed" in result.text
    assert one(driver, "#panel [role='status']").text == "Done."
    assert one(driver, "#panel progress").get_attribute("value") == "1"
    files = table_rows(result.find_element(By.CSS_SELECTOR, "table"))
    assert {r["File"].rsplit("/", 1)[-1]: r["Rows"] for r in files} == {
        "customers_added.csv": "2,500",
        "customers_changed.csv": "0",
        "customers_removed.csv": "0",
    }
    wait(driver, lambda d: one(d, "#panel button.primary").is_enabled(), "Run now enabled again")
    shoot(driver, "run")


def test_history_shows_the_run(driver):
    open_tab(driver, "history")
    table = wait(driver, lambda d: no_loading(d) and one(d, "#panel table"), "the history table")
    runs = table_rows(table)
    assert len(runs) == 1, runs
    run = runs[0]
    assert run["Run"] == "#1"
    assert run["Status"] == "Succeeded"
    assert (run["Added"], run["Changed"], run["Removed"]) == ("2,500", "0", "0")
    assert "customers_added.csv 2,500 rows" in run["Files"]
    assert run["Error"] == ""
    shoot(driver, "history")


def test_reset_snapshot_then_run_delivers_everything_again(driver):
    # Still on History: reset through the in-page confirmation.
    one(driver, "[data-testid='reset-snapshot']").click()
    confirm = wait(driver, lambda d: one(d, "#reset-confirm").is_displayed() and one(d, "#reset-confirm"), "the confirmation")
    assert "next run then delivers every row as added" in confirm.text
    assert driver.switch_to.active_element.text == "Cancel"  # focus moves into the confirmation
    one(driver, "[data-testid='reset-snapshot-confirm']").click()
    message = wait(
        driver,
        lambda d: "Snapshot reset" in (t := one(d, "[data-testid='reset-snapshot-message']").text) and t,
        "the reset message",
    )
    assert "2,500 rows forgotten" in message and "next run delivers every row as added" in message
    assert not one(driver, "#reset-confirm").is_displayed()

    open_tab(driver, "run")
    one(driver, "#panel button.primary").click()
    result = wait(driver, lambda d: one(d, "[data-testid='run-result']"), "the second run's result", timeout=120)
    assert "Run #2: 2,500 added, 0 changed, 0 removed" in result.text, result.text
    wait(driver, lambda d: one(d, "#panel button.primary").is_enabled(), "Run now enabled again")

    open_tab(driver, "history")
    table = wait(driver, lambda d: no_loading(d) and one(d, "#panel table"), "the history table")
    runs = {r["Run"]: r for r in table_rows(table)}
    assert sorted(runs) == ["#1", "#2"], runs
    assert runs["#2"]["Status"] == "Succeeded"
    assert (runs["#2"]["Added"], runs["#2"]["Changed"], runs["#2"]["Removed"]) == ("2,500", "0", "0")
    chart = one(driver, "[data-testid='history-chart'] svg")
    assert chart.get_attribute("role") == "img"
    assert "run #1: 2,500 added" in chart.get_attribute("aria-label")
    assert "run #2: 2,500 added" in chart.get_attribute("aria-label")
    assert len(chart.find_elements(By.CSS_SELECTOR, "rect.bar-added")) == 2
    shoot(driver, "history-chart")


def test_syncs_list_shows_last_status(driver):
    one(driver, "nav button.link").click()
    wait(driver, lambda d: one(d, "h1").text == "Syncs", "the Syncs screen")
    wait(
        driver,
        lambda d: one(d, f"[data-testid='sync-{DIFF}'] [data-testid='last-status'] .badge.success"),
        "a success badge on customers-diff",
    )
    assert "Succeeded" in one(driver, f"[data-testid='sync-{DIFF}'] [data-testid='last-status']").text
    for s in DEMO_SYNCS:
        if s != DIFF:
            assert "Never run" in one(driver, f"[data-testid='sync-{s}'] [data-testid='last-status']").text
    shoot(driver, "syncs-after-run")


def test_run_wrote_the_files(workspace):
    out = workspace / "out"
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    # Run 1, then run 2 after the snapshot reset: both deliver every row as added.
    assert files == [f"diff/run-{n}/customers_{k}.csv" for n in (1, 2) for k in ("added", "changed", "removed")]
    header = ";".join(OUTPUT_COLUMNS)
    for n in (1, 2):
        for name, rows in [("added", CUSTOMERS), ("changed", 0), ("removed", 0)]:
            text = (out / f"diff/run-{n}/customers_{name}.csv").read_text(encoding="utf-8-sig")
            lines = text.splitlines()
            assert len(lines) == rows + 1, (n, name, len(lines))  # header + one line per row
            assert lines[0] == header
        added = (out / f"diff/run-{n}/customers_added.csv").read_text(encoding="utf-8-sig").splitlines()[1:]
        assert len({line.split(";")[0] for line in added}) == CUSTOMERS  # unique customer ids
        assert all(line.split(";")[3] == "EMEA" for line in added)
