"""A new user's first minutes in the real app, as issue 11 describes them:
what to do next on first start, where the files go, a filename that would
overwrite the last run's changes, a brace left open, an extension that is
not the format's, and a Syncs table that fits the default window. Runs after
the demo and Dropbox walks (its own app session on the same profile).
Screenshots: target/screenshots/e2e-new-user-*.png"""

import datetime
import os
import pathlib

from selenium.webdriver.common.by import By

from conftest import css, one, shoot, tid, type_into, wait


def test_first_start_says_what_to_do_next_and_where_the_files_are(driver):
    steps = wait(driver, lambda d: one(d, tid("getting-started")), "the Get started steps", timeout=60)
    for want in ("Try the demo", "Connect Dropbox", "Add your own database"):
        assert want in steps.text, steps.text
    assert one(driver, tid("workspace-path")).text == os.environ["DROPSYNC_WORKSPACE"]
    assert css(driver, tid("workspace-open")) and css(driver, tid("workspace-change"))
    shoot(driver, "new-user-syncs")


def test_the_syncs_table_fits_the_default_window(driver):
    wait(driver, lambda d: css(d, "table.syncs tbody tr"), "the syncs table")
    width, overflow, last_right = driver.execute_script(
        """const t = document.querySelector('table.syncs');
           const last = [...t.querySelectorAll('thead th')].pop();
           const wrap = t.parentElement;
           return [window.innerWidth, wrap.scrollWidth - wrap.clientWidth, last.getBoundingClientRect().right];"""
    )
    assert overflow <= 0, f"the table scrolls sideways by {overflow}px"
    assert last_right <= width, f"the Last run column ends at {last_right}px in a {width}px window"


def test_a_new_sync_delivers_to_a_visible_folder(driver):
    one(driver, tid("new-sync")).click()
    folder = wait(driver, lambda d: one(d, tid("dest-folder-path")), "the sync editor").get_attribute("value")
    home = pathlib.Path(os.environ["HOME"])
    assert folder == str(home / "Dropsync"), folder
    for hidden in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "DROPSYNC_STATE_DIR", "DROPSYNC_WORKSPACE"):
        assert not folder.startswith(os.environ[hidden]), (hidden, folder)


def test_a_filename_that_repeats_between_runs_is_warned_with_fixes(driver):
    one(driver, tid("draft-mode-insert")).click()
    kind = one(driver, tid("schedule-kind"))
    kind.find_element(By.CSS_SELECTOR, "option[value='every']").click()
    wait(driver, lambda d: css(d, tid("schedule-every-n")), "the every-N fields")
    type_into(one(driver, tid("schedule-every-n")), "15")
    filename = one(driver, tid("filename-input"))
    type_into(filename, "exports/{YYYY}-{MM}-{DD}.csv")
    warning = wait(driver, lambda d: (w := one(d, tid("overwrite-warning"))).text and w, "the overwrite warning")
    assert "overwrite" in warning.text.lower(), warning.text
    fixes = {b.get_attribute("data-adds"): b for b in css(driver, tid("overwrite-fix"))}
    assert "{HH}{mm}" in fixes and "{sync.run.id}" in fixes, list(fixes)

    # The next runs the editor lists are 15 minutes apart (in local time).
    runs = wait(driver, lambda d: len(r := css(d, tid("next-runs") + " li")) >= 2 and r, "the next runs")
    times = [datetime.datetime.strptime(r.text[:16], "%Y-%m-%d %H:%M") for r in runs[:3]]
    assert all(b - a == datetime.timedelta(minutes=15) for a, b in zip(times, times[1:])), [r.text for r in runs]
    shoot(driver, "new-user-overwrite-warning")

    fixes["{HH}{mm}"].click()
    wait(driver, lambda d: "{HH}{mm}" in one(d, tid("filename-input")).get_attribute("value"), "the fix applied")
    wait(driver, lambda d: not one(d, tid("overwrite-warning")).text.strip(), "the warning gone")


def test_an_unclosed_brace_and_a_wrong_extension_are_named(driver):
    filename = one(driver, tid("filename-input"))
    type_into(filename, "{YYYY-{MM}.csv")
    err = wait(driver, lambda d: (e := one(d, tid("filename-error"))).text and e, "the filename error")
    assert "unclosed" in err.text and "unknown variable" not in err.text, err.text
    type_into(filename, "report-{sync.run.id}.xlsx")
    ext = wait(driver, lambda d: (e := one(d, tid("extension-warning"))).text and e, "the extension warning")
    assert ".xlsx" in ext.text, ext.text
    shoot(driver, "new-user-filename-checks")


def test_a_database_source_offers_its_timeouts(driver):
    """A PostgreSQL source's form has the three timeouts, with their defaults,
    the read timeout saying what happens when the server goes silent."""
    one(driver, tid("nav-connections")).click()
    # The sync editor of the walk above holds unsaved changes: leave them.
    wait(driver, lambda d: css(d, tid("leave-confirm")), "the unsaved-changes question").pop().click()
    wait(driver, lambda d: css(d, tid("source-add")), "the Connections screen").pop().click()
    form = wait(driver, lambda d: one(d, tid("source-form")), "the source form")
    form.find_element(By.CSS_SELECTOR, tid("source-type") + " option[value='postgres']").click()
    read = wait(driver, lambda d: one(d, tid("source-read-timeout")), "the read timeout field")
    assert read.get_attribute("placeholder") == "90s"
    assert one(driver, tid("source-connect-timeout")).get_attribute("placeholder") == "10s"
    assert "sends nothing for this long" in form.text, form.text
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", read)
    shoot(driver, "new-user-database-timeouts")
