"""A new sync to Dropbox, made by point and click in the real app against the
Dropbox emulator: Connections (OAuth in the "browser") -> Models (query, key
check) -> sync editor (folder browser, live filename, column mapper) ->
Preview -> Run now -> History, then the file in the emulator's folder is
compared with the database.

The steps share one app session and run in file order."""

import csv
import io
import os
import pathlib
import sqlite3

from selenium.webdriver.common.by import By

from conftest import css, one, shoot, table_rows, tid, type_into, wait

SYNC_ID = "paid-orders"
SQL = "SELECT id, customer_id, product, amount FROM orders WHERE paid = 1 ORDER BY id"
FOLDER = "/Exports"
TEMPLATE = "paid-orders-{sync.run.id}.csv"


def nav(d, name):
    one(d, tid(f"nav-{name}")).click()
    wait(d, lambda d: one(d, tid(f"nav-{name}")).get_attribute("aria-current") == "page", f"the {name} screen")


def connected_account(d):
    return wait(
        d,
        lambda d: (a := css(d, tid("dropbox-account"))) and a[0].get_attribute("data-state") == "connected" and a[0],
        "a connected account",
        timeout=60,
    )


def test_connect_dropbox_with_an_app_key_typed_into_the_app(driver):
    """No DROPSYNC_DROPBOX_APP_KEY anywhere: Connections guides the user to
    create a Dropbox app, a wrong key is refused by name, the right one
    connects (and is remembered)."""
    assert "DROPSYNC_DROPBOX_APP_KEY" not in os.environ
    wait(driver, lambda d: css(d, "table.syncs"), "the Syncs screen", timeout=60)
    nav(driver, "connections")
    guide = wait(driver, lambda d: one(d, tid("dropbox-setup")), "the Dropbox setup guide")
    assert "Set up Dropbox access" in guide.text
    assert "files.content.write" in guide.text
    redirect = one(driver, tid("dropbox-redirect-uri")).get_attribute("value")
    assert redirect == f"http://127.0.0.1:{os.environ['E2E_OAUTH_PORT']}/dropsync/oauth/callback", redirect
    shoot(driver, "dropbox-setup-guide")

    key = one(driver, tid("dropbox-app-key"))
    type_into(key, "wrongkey42")
    one(driver, tid("dropbox-connect-with-key")).click()
    err = wait(driver, lambda d: (e := css(d, tid("dropbox-connect-result"))) and "refused the app key" in e[0].text and e[0], "the refused key")
    assert "wrongkey42" in err.text and "App secret" in err.text, err.text
    shoot(driver, "dropbox-wrong-key")

    type_into(one(driver, tid("dropbox-app-key")), os.environ["E2E_APP_KEY"])
    one(driver, tid("dropbox-connect-with-key")).click()
    # The stand-in browser follows the emulator's redirect back to the app.
    account = connected_account(driver)
    assert "@" in account.text
    assert "Connected" in one(driver, tid("dropbox-connect-result")).text
    info = wait(driver, lambda d: one(d, tid("dropbox-app-key-info")), "the remembered key")
    assert os.environ["E2E_APP_KEY"] in info.text and "entered in Dropsync" in info.text, info.text
    remembered = pathlib.Path(os.environ["DROPSYNC_STATE_DIR"]) / "dropbox" / "app_key"
    assert remembered.read_text().strip() == os.environ["E2E_APP_KEY"]
    shoot(driver, "connections")


def test_connect_by_pasting_the_code_when_the_port_is_taken(driver):
    """Another program holds the redirect port: the app asks for the code
    Dropbox shows, and connecting works with it."""
    import re
    import socket
    import urllib.request

    taken = socket.socket()
    # The last connection's redirect may still be in TIME_WAIT on this port.
    taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    taken.bind(("127.0.0.1", int(os.environ["E2E_OAUTH_PORT"])))
    taken.listen(1)
    try:
        one(driver, tid("dropbox-connect")).click()
        field = wait(driver, lambda d: one(d, tid("dropbox-code")), "the code field")
        assert "paste the code" in one(driver, tid("dropbox-paste-code")).text
        url = one(driver, tid("dropbox-oauth-url")).get_attribute("value")
        assert "redirect_uri" not in url, url
        shoot(driver, "dropbox-paste-code")
        # What the user sees in the browser: Dropbox's page with the code.
        page = urllib.request.urlopen(url, timeout=20).read().decode()
        code = re.search(r'<code id="auth-code">([^<]+)</code>', page).group(1)
        type_into(field, code)
        one(driver, tid("dropbox-code-submit")).click()
        wait(driver, lambda d: "Connected" in one(d, tid("dropbox-connect-result")).text, "connected with the code", timeout=60)
        assert len(css(driver, tid("dropbox-account"))) == 1
    finally:
        taken.close()


def test_write_a_model_and_check_its_key(driver):
    nav(driver, "models")
    one(driver, tid("model-new") + "," + tid("model-new-empty")).click()
    name = wait(driver, lambda d: one(d, tid("model-name")), "the model editor")
    type_into(name, "Paid orders")
    # The demo database is a source of the workspace's syncs.
    source = one(driver, tid("model-source"))
    options = source.find_elements(By.TAG_NAME, "option")
    shop = [o for o in options if "shop.db" in o.text]
    assert shop, [o.text for o in options]
    shop[0].click()
    sql = one(driver, tid("model-sql"))
    type_into(sql, SQL)
    one(driver, tid("model-run")).click()
    results = wait(driver, lambda d: (t := css(d, tid("model-results") + " table")) and t[0], "the query's rows")
    headers = [th.get_attribute("data-column") for th in results.find_elements(By.CSS_SELECTOR, "thead th")]
    assert headers == ["id", "customer_id", "product", "amount"], headers
    types = [t.text for t in results.find_elements(By.CSS_SELECTOR, tid("column-type"))]
    assert types[0].startswith("INTEGER") and "float" in types[3], types
    assert len(results.find_elements(By.CSS_SELECTOR, "tbody tr")) == 100
    assert css(driver, tid("model-more"))

    # The declared integer id is preselected; a key that repeats is
    # refused, with an example; the id holds.
    assert one(driver, tid("model-key-id")).is_selected()
    one(driver, tid("model-key-id")).click()
    one(driver, tid("model-key-customer_id")).click()
    one(driver, tid("model-check-key")).click()
    wait(driver, lambda d: "not unique" in one(d, tid("key-result")).text, "the duplicate-key answer", timeout=60)
    one(driver, tid("model-key-customer_id")).click()
    one(driver, tid("model-key-id")).click()
    one(driver, tid("model-check-key")).click()
    wait(driver, lambda d: css(d, tid("key-result") + " [data-ok='true']"), "the key check to pass", timeout=60)
    one(driver, tid("model-save")).click()
    wait(driver, lambda d: "Saved" in one(d, tid("model-status")).text, "the model saved")
    shoot(driver, "models")


def test_make_a_dropbox_sync_with_the_folder_browser_and_column_mapper(driver):
    one(driver, tid("model-create-sync")).click()
    sync_id = wait(driver, lambda d: one(d, tid("draft-sync-id")), "the sync editor")
    type_into(sync_id, SYNC_ID)

    # Dropbox destination: make /Exports in the browser, open it, use it.
    one(driver, tid("dest-type-dropbox")).click()
    wait(driver, lambda d: css(d, tid("dbx-list")), "the folder browser")
    name = one(driver, tid("dbx-new-folder-name"))
    name.send_keys("Exports")
    one(driver, tid("dbx-new-folder-create")).click()
    entry = wait(
        driver,
        lambda d: [e for e in css(d, tid("dbx-entry")) if e.get_attribute("data-path") == FOLDER],
        "the new folder in the list",
    )[0]
    assert entry.get_attribute("data-kind") == "folder"
    entry.click()
    wait(driver, lambda d: css(d, tid("dbx-breadcrumb-1")), "the breadcrumb of /Exports")
    assert one(driver, tid("dbx-breadcrumb-1")).text == "Exports"
    one(driver, tid("dbx-use-folder")).click()
    wait(driver, lambda d: FOLDER in one(d, tid("dest-dropbox-path")).text, "the chosen folder")

    # The filename resolves live; a bad variable is named under the field.
    filename = one(driver, tid("filename-input"))
    type_into(filename, "paid-{nope}.csv")
    wait(driver, lambda d: "nope" in one(d, tid("filename-error")).text, "the filename error")
    assert not one(driver, tid("save-sync")).is_enabled()
    type_into(filename, TEMPLATE)
    wait(driver, lambda d: one(d, tid("filename-resolved")).text.endswith("paid-orders-1.csv"), "the resolved name")

    # Column mapper: pick columns, rename id, drop customer_id, add a constant.
    one(driver, tid("columns-mode-pick")).click()
    rows = wait(driver, lambda d: len(r := css(d, tid("column-row"))) == 4 and r, "one row per model column")
    type_into(rows[0].find_element(By.CSS_SELECTOR, tid("column-to")), "order_id")
    rows[1].find_element(By.CSS_SELECTOR, tid("column-remove")).click()
    wait(driver, lambda d: len(css(d, tid("column-row"))) == 3, "three rows")
    one(driver, tid("column-add-constant")).click()
    last = wait(driver, lambda d: len(r := css(d, tid("column-row"))) == 4 and r[-1], "a constant row")
    last.find_element(By.CSS_SELECTOR, tid("column-value")).send_keys("dropsync")
    type_into(last.find_element(By.CSS_SELECTOR, tid("column-to")), "channel")
    # Move the constant from fourth to second place.
    for position in (3, 2):
        row = css(driver, tid("column-row"))[position]
        row.find_element(By.CSS_SELECTOR, tid("column-up")).click()
    wait(
        driver,
        lambda d: [c.text for c in one(d, tid("output-header")).find_elements(By.CSS_SELECTOR, "code")]
        == ["order_id", "channel", "product", "amount"],
        "the output header",
    )
    save = wait(driver, lambda d: (b := one(d, tid("save-sync"))).is_enabled() and b, "Save enabled")
    shoot(driver, "editor")
    save.click()
    wait(driver, lambda d: one(d, "h1").text == f"{SYNC_ID}.toml", "the new sync's page", timeout=30)


def test_preview_shows_the_file_before_upload(driver):
    one(driver, "#tab-preview").click()
    f = wait(driver, lambda d: (a := css(d, "#panel article.file")) and a[0], "the preview file", timeout=60)
    assert f.find_element(By.CSS_SELECTOR, "h2 code").text.endswith("paid-orders-1.csv")
    table = f.find_element(By.CSS_SELECTOR, "table")
    assert [th.text for th in table.find_elements(By.CSS_SELECTOR, "thead th")] == ["order_id", "channel", "product", "amount"]
    assert all(r["channel"] == "dropsync" for r in table_rows(table))
    shoot(driver, "dropbox-preview")


def test_run_uploads_to_dropbox_and_history_shows_it(driver, workspace):
    one(driver, "#tab-run").click()
    wait(driver, lambda d: one(d, "#panel button.primary"), "the Run now button").click()
    result = wait(driver, lambda d: one(d, tid("run-result")), "the run result", timeout=120)
    assert result.find_elements(By.CSS_SELECTOR, ".badge.success"), result.text
    one(driver, "#tab-history").click()
    table = wait(driver, lambda d: (t := css(d, "#panel table")) and t[0], "the history table")
    runs = table_rows(table)
    assert len(runs) == 1 and runs[0]["Status"] == "Succeeded", runs
    shoot(driver, "dropbox-history")

    # The uploaded file, as the emulator stored it, holds exactly the query's rows.
    root = pathlib.Path(os.environ["E2E_DROPBOX_ROOT"])
    uploaded = root / "Exports" / "paid-orders-1.csv"
    assert uploaded.is_file(), sorted(str(p) for p in root.rglob("*"))
    rows = list(csv.reader(io.StringIO(uploaded.read_text())))
    assert rows[0] == ["order_id", "channel", "product", "amount"]
    with sqlite3.connect(workspace / "shop.db") as db:
        expected = db.execute(SQL).fetchall()
    assert len(rows) - 1 == len(expected) > 0
    for got, (oid, _cust, product, amount) in zip(rows[1:], expected):
        assert got[0] == str(oid) and got[1] == "dropsync" and got[2] == product
        assert float(got[3]) == amount
    # The sync file the app wrote is the CLI's: it names the folder and mapping.
    text = (workspace / f"{SYNC_ID}.toml").read_text()
    assert 'type = "dropbox"' in text and f'path = "{FOLDER}"' in text and 'to = "order_id"' in text
