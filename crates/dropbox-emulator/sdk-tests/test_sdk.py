"""The official Dropbox Python SDK against the emulator, over HTTPS.

The SDK decodes every response with Dropbox's Stone validators (patterns,
lengths, union shapes), so a response it accepts has the published shape.
Decoding is lenient about unknown union tags (they become `other`), so every
error test asserts the exact `is_*` member.
"""

import re
import threading
import time
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

import dropbox
from dropbox import files
from dropbox.content_hash import content_hash
from dropbox.exceptions import (
    ApiError,
    AuthError,
    BadInputError,
    InternalServerError,
    RateLimitError,
)
from dropbox.file_transfer import (
    BytesUpload,
    Downloader,
    Uploader,
    UploadOptions,
    DownloadOptions,
    Bytes,
)

from conftest import APP_KEY, TOKEN

MIB = 1024 * 1024
BLOCK = 4 * MIB
EMPTY_HASH = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
FILE_ID = re.compile(r"^id:[A-Za-z0-9_-]{22}$")


def data_of(n, seed=1):
    return bytes((i * 31 + seed) % 251 for i in range(n))


def big(n, seed=1):
    # Fast large buffers that still differ block by block.
    unit = data_of(64 * 1024, seed)
    return (unit * (n // len(unit) + 1))[:n]


def api_error(excinfo):
    assert isinstance(excinfo.value, ApiError)
    return excinfo.value.error


def check_file(meta, path, data):
    assert isinstance(meta, files.FileMetadata)
    assert FILE_ID.match(meta.id), meta.id
    assert re.fullmatch(r"[0-9a-f]{9,}", meta.rev), meta.rev
    assert meta.path_lower == path.lower()
    assert meta.path_display.lower() == path.lower()
    assert meta.name == path.rsplit("/", 1)[1]
    assert meta.size == len(data)
    assert meta.content_hash == content_hash(data)
    assert meta.is_downloadable


# ---------- account, folders, metadata, listing ----------


def test_current_account(dbx):
    acct = dbx.users_get_current_account()
    assert re.fullmatch(r"dbid:[A-Za-z0-9_-]{35}", acct.account_id), acct.account_id
    assert acct.name.display_name
    assert acct.account_type.is_basic() or acct.account_type.is_pro() or acct.account_type.is_business()
    assert acct.root_info.root_namespace_id
    assert acct.root_info.home_namespace_id


def test_create_folder_and_conflict(dbx, folder):
    res = dbx.files_create_folder_v2(folder + "/Made")
    assert isinstance(res.metadata, files.FolderMetadata)
    assert FILE_ID.match(res.metadata.id)
    assert res.metadata.path_lower == (folder + "/made").lower()
    with pytest.raises(ApiError) as e:
        dbx.files_create_folder_v2(folder + "/made")
    err = api_error(e)
    assert isinstance(err, files.CreateFolderError)
    assert err.is_path()
    assert err.get_path().is_conflict()
    assert err.get_path().get_conflict().is_folder()


def test_create_folder_under_a_file(dbx, folder):
    dbx.files_upload(b"x", folder + "/f.txt")
    with pytest.raises(ApiError) as e:
        dbx.files_create_folder_v2(folder + "/f.txt/sub")
    err = api_error(e)
    assert err.get_path().get_conflict().is_file_ancestor()


def test_get_metadata_and_not_found(dbx, folder):
    dbx.files_upload(b"hello", folder + "/a.txt")
    meta = dbx.files_get_metadata(folder + "/A.TXT")
    check_file(meta, folder + "/a.txt", b"hello")
    folder_meta = dbx.files_get_metadata(folder)
    assert isinstance(folder_meta, files.FolderMetadata)
    with pytest.raises(ApiError) as e:
        dbx.files_get_metadata(folder + "/missing.txt")
    err = api_error(e)
    assert isinstance(err, files.GetMetadataError)
    assert err.is_path() and err.get_path().is_not_found()


def test_get_metadata_by_id(dbx, folder):
    meta = dbx.files_upload(b"by id", folder + "/id.txt")
    again = dbx.files_get_metadata(meta.id)
    assert again.id == meta.id
    assert again.path_lower == meta.path_lower


def test_get_metadata_of_root_is_bad_input(dbx, emulator):
    # The SDK refuses "" itself (ReadPath), so the call goes out by hand.
    r = emulator.http.post(
        emulator.url + "/2/files/get_metadata",
        headers={"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"},
        data='{"path": ""}',
    )
    assert r.status_code == 400
    with pytest.raises(BadInputError):
        dbx.request_json_string(
            "api", "files/get_metadata", "rpc", '{"path": ""}', "user", None
        )


def test_list_folder_paginates(dbx, folder):
    names = ["f%02d.txt" % i for i in range(7)]
    for n in names:
        dbx.files_upload(n.encode(), folder + "/" + n)
    dbx.files_create_folder_v2(folder + "/sub")
    page = dbx.files_list_folder(folder, limit=3)
    seen = list(page.entries)
    assert len(page.entries) <= 3 and page.has_more
    pages = 1
    while page.has_more:
        page = dbx.files_list_folder_continue(page.cursor)
        seen.extend(page.entries)
        pages += 1
    assert pages >= 3
    assert sorted(e.name for e in seen) == sorted(names + ["sub"])
    kinds = {e.name: type(e) for e in seen}
    assert kinds["sub"] is files.FolderMetadata
    assert kinds["f00.txt"] is files.FileMetadata


def test_list_folder_errors(dbx, folder):
    dbx.files_upload(b"x", folder + "/file.txt")
    with pytest.raises(ApiError) as e:
        dbx.files_list_folder(folder + "/nope")
    err = api_error(e)
    assert isinstance(err, files.ListFolderError)
    assert err.get_path().is_not_found()
    with pytest.raises(ApiError) as e:
        dbx.files_list_folder(folder + "/file.txt")
    assert api_error(e).get_path().is_not_folder()
    with pytest.raises(ApiError) as e:
        dbx.files_list_folder_continue("not-a-cursor")
    err = api_error(e)
    assert isinstance(err, files.ListFolderContinueError)
    assert err.is_reset()


def test_list_root(dbx, folder):
    page = dbx.files_list_folder("")
    assert any(e.path_lower == "/sdk" for e in page.entries)


# ---------- upload ----------


def test_upload_and_download(dbx, folder):
    data = data_of(10_000)
    meta = dbx.files_upload(data, folder + "/Report.CSV")
    check_file(meta, folder + "/Report.CSV", data)
    got_meta, resp = dbx.files_download(folder + "/report.csv")
    assert resp.content == data
    assert got_meta.id == meta.id and got_meta.rev == meta.rev
    assert got_meta.content_hash == meta.content_hash


def test_download_errors(dbx, folder):
    with pytest.raises(ApiError) as e:
        dbx.files_download(folder + "/none.bin")
    err = api_error(e)
    assert isinstance(err, files.DownloadError)
    assert err.get_path().is_not_found()
    with pytest.raises(ApiError) as e:
        dbx.files_download(folder)
    assert api_error(e).get_path().is_not_file()


def test_download_range(dbx, folder):
    data = data_of(5000)
    dbx.files_upload(data, folder + "/r.bin")
    _, resp = dbx.files_download(folder + "/r.bin", extra_headers={"Range": "bytes=100-199"})
    assert resp.status_code == 206
    assert resp.content == data[100:200]
    assert resp.headers["Content-Range"] == "bytes 100-199/5000"
    _, resp = dbx.files_download(folder + "/r.bin", extra_headers={"Range": "bytes=4990-"})
    assert resp.content == data[4990:]
    _, resp = dbx.files_download(folder + "/r.bin", extra_headers={"Range": "bytes=-10"})
    assert resp.content == data[-10:]


def test_upload_unicode_name(dbx, folder):
    path = folder + "/some_üñîcødé 😀.txt"
    meta = dbx.files_upload(b"u", path)
    assert meta.name == "some_üñîcødé 😀.txt"
    got, resp = dbx.files_download(path)
    assert got.name == meta.name and resp.content == b"u"


def test_upload_modes(dbx, folder):
    path = folder + "/m.txt"
    first = dbx.files_upload(b"one", path)
    # The same content again: no conflict, nothing new written.
    same = dbx.files_upload(b"one", path)
    assert same.rev == first.rev
    second = dbx.files_upload(b"two", path, mode=files.WriteMode.overwrite)
    assert second.rev != first.rev and second.id == first.id
    third = dbx.files_upload(b"three", path, mode=files.WriteMode.update(second.rev))
    assert third.size == 5
    renamed = dbx.files_upload(b"four", path, autorename=True)
    assert renamed.name == "m (2).txt"


def test_upload_conflict_is_upload_write_failed(dbx, folder):
    path = folder + "/c.txt"
    dbx.files_upload(b"original", path)
    with pytest.raises(ApiError) as e:
        dbx.files_upload(b"different", path)
    err = api_error(e)
    assert isinstance(err, files.UploadError)
    assert err.is_path()
    failed = err.get_path()
    assert isinstance(failed, files.UploadWriteFailed)
    assert failed.reason.is_conflict() and failed.reason.get_conflict().is_file()
    # The data is already in an upload session: finishing it commits it.
    assert failed.upload_session_id
    meta = dbx.files_upload_session_finish(
        b"",
        files.UploadSessionCursor(failed.upload_session_id, len(b"different")),
        files.CommitInfo(folder + "/c-retry.txt"),
    )
    check_file(meta, folder + "/c-retry.txt", b"different")


def test_upload_under_a_file_is_file_ancestor(dbx, folder):
    dbx.files_upload(b"x", folder + "/plain")
    with pytest.raises(ApiError) as e:
        dbx.files_upload(b"y", folder + "/plain/inner.txt")
    failed = api_error(e).get_path()
    assert failed.reason.get_conflict().is_file_ancestor()


def test_upload_update_with_stale_rev(dbx, folder):
    path = folder + "/u.txt"
    dbx.files_upload(b"1", path)
    with pytest.raises(ApiError) as e:
        dbx.files_upload(b"2", path, mode=files.WriteMode.update("0123456789abcdef"))
    assert api_error(e).get_path().reason.get_conflict().is_file()


def test_upload_content_hash_right_and_wrong(dbx, folder):
    data = data_of(BLOCK + 123)
    meta = dbx.files_upload(data, folder + "/h.bin", content_hash=content_hash(data))
    assert meta.content_hash == content_hash(data)
    with pytest.raises(ApiError) as e:
        dbx.files_upload(data, folder + "/h2.bin", content_hash=content_hash(b"other"))
    err = api_error(e)
    assert err.is_content_hash_mismatch()
    with pytest.raises(ApiError):
        dbx.files_get_metadata(folder + "/h2.bin")


def test_upload_without_content_hash(dbx, folder):
    plain = dropbox.Dropbox(
        oauth2_access_token=dbx._oauth2_access_token,
        session=dbx._session,
        auto_content_hash=False,
    )
    meta = plain.files_upload(b"no hash", folder + "/n.txt")
    assert meta.content_hash == content_hash(b"no hash")


def test_empty_file(dbx, folder):
    meta = dbx.files_upload(b"", folder + "/empty")
    assert meta.size == 0 and meta.content_hash == EMPTY_HASH


def test_malformed_path(dbx, folder):
    with pytest.raises(ApiError) as e:
        dbx.files_create_folder_v2(folder + "/bad/")
    assert api_error(e).get_path().is_malformed_path()


# ---------- upload sessions ----------


def test_upload_session_sequential(dbx, folder):
    parts = [big(BLOCK, 1), big(BLOCK, 2), data_of(777, 3)]
    whole = b"".join(parts)
    start = dbx.files_upload_session_start(parts[0])
    assert isinstance(start, files.UploadSessionStartResult) and start.session_id
    cursor = files.UploadSessionCursor(start.session_id, len(parts[0]))
    dbx.files_upload_session_append_v2(parts[1], cursor)
    cursor.offset += len(parts[1])
    # The SDK sends content_hash of each call's own data, finish included.
    meta = dbx.files_upload_session_finish(parts[2], cursor, files.CommitInfo(folder + "/s.bin"))
    check_file(meta, folder + "/s.bin", whole)
    _, resp = dbx.files_download(folder + "/s.bin")
    assert resp.content == whole


def test_upload_session_content_hash_covers_each_call(dbx, folder):
    a, b, c = data_of(1000, 1), data_of(2000, 2), data_of(3000, 3)
    # start: its own data
    with pytest.raises(ApiError) as e:
        dbx.files_upload_session_start(a, content_hash=content_hash(b))
    err = api_error(e)
    assert isinstance(err, files.UploadSessionStartError)
    assert err.is_content_hash_mismatch()
    start = dbx.files_upload_session_start(a, content_hash=content_hash(a))
    cursor = files.UploadSessionCursor(start.session_id, len(a))
    # append: its own data, not the file so far; a refused append adds nothing
    with pytest.raises(ApiError) as e:
        dbx.files_upload_session_append_v2(b, cursor, content_hash=content_hash(a + b))
    err = api_error(e)
    assert isinstance(err, files.UploadSessionAppendError)
    assert err.is_content_hash_mismatch()
    dbx.files_upload_session_append_v2(b, cursor, content_hash=content_hash(b))
    cursor.offset += len(b)
    commit = files.CommitInfo(folder + "/each.bin")
    # finish: its own data, not the whole file
    with pytest.raises(ApiError) as e:
        dbx.files_upload_session_finish(c, cursor, commit, content_hash=content_hash(a + b + c))
    err = api_error(e)
    assert isinstance(err, files.UploadSessionFinishError)
    assert err.is_content_hash_mismatch()
    meta = dbx.files_upload_session_finish(c, cursor, commit, content_hash=content_hash(c))
    check_file(meta, folder + "/each.bin", a + b + c)


def test_upload_session_finish_empty_body_hash(dbx, folder):
    start = dbx.files_upload_session_start(b"abc", close=True)
    cursor = files.UploadSessionCursor(start.session_id, 3)
    with pytest.raises(ApiError) as e:
        dbx.files_upload_session_finish(
            b"", cursor, files.CommitInfo(folder + "/e.txt"), content_hash=content_hash(b"abc")
        )
    assert api_error(e).is_content_hash_mismatch()
    meta = dbx.files_upload_session_finish(
        b"", cursor, files.CommitInfo(folder + "/e.txt"), content_hash=EMPTY_HASH
    )
    check_file(meta, folder + "/e.txt", b"abc")


def test_upload_session_incorrect_offset(dbx, folder):
    start = dbx.files_upload_session_start(b"12345")
    with pytest.raises(ApiError) as e:
        dbx.files_upload_session_append_v2(b"678", files.UploadSessionCursor(start.session_id, 3))
    err = api_error(e)
    assert err.is_incorrect_offset()
    assert err.get_incorrect_offset().correct_offset == 5
    with pytest.raises(ApiError) as e:
        dbx.files_upload_session_finish(
            b"", files.UploadSessionCursor(start.session_id, 9), files.CommitInfo(folder + "/o")
        )
    err = api_error(e)
    assert err.is_lookup_failed()
    assert err.get_lookup_failed().is_incorrect_offset()
    assert err.get_lookup_failed().get_incorrect_offset().correct_offset == 5


def test_upload_session_closed_and_not_found(dbx, folder):
    start = dbx.files_upload_session_start(b"12", close=True)
    with pytest.raises(ApiError) as e:
        dbx.files_upload_session_append_v2(b"3", files.UploadSessionCursor(start.session_id, 2))
    assert api_error(e).is_closed()
    with pytest.raises(ApiError) as e:
        dbx.files_upload_session_append_v2(b"3", files.UploadSessionCursor("no-such-session", 0))
    assert api_error(e).is_not_found()
    with pytest.raises(ApiError) as e:
        dbx.files_upload_session_finish(
            b"", files.UploadSessionCursor("no-such-session", 0), files.CommitInfo(folder + "/x")
        )
    err = api_error(e)
    assert err.is_lookup_failed() and err.get_lookup_failed().is_not_found()


def test_upload_session_finish_conflict(dbx, folder):
    dbx.files_upload(b"there", folder + "/taken.txt")
    start = dbx.files_upload_session_start(b"new", close=True)
    cursor = files.UploadSessionCursor(start.session_id, 3)
    with pytest.raises(ApiError) as e:
        dbx.files_upload_session_finish(b"", cursor, files.CommitInfo(folder + "/taken.txt"))
    err = api_error(e)
    assert err.is_path() and err.get_path().get_conflict().is_file()
    # The data stays in the session: finish again elsewhere, empty body.
    meta = dbx.files_upload_session_finish(b"", cursor, files.CommitInfo(folder + "/free.txt"))
    check_file(meta, folder + "/free.txt", b"new")


def test_upload_session_concurrent(dbx, folder):
    parts = [big(BLOCK, 4), big(BLOCK, 5), data_of(1234, 6)]
    whole = b"".join(parts)
    concurrent = files.UploadSessionType.concurrent
    with pytest.raises(ApiError) as e:
        dbx.files_upload_session_start(b"data", session_type=concurrent)
    assert api_error(e).is_concurrent_session_data_not_allowed()
    with pytest.raises(ApiError) as e:
        dbx.files_upload_session_start(b"", session_type=concurrent, close=True)
    assert api_error(e).is_concurrent_session_close_not_allowed()
    sid = dbx.files_upload_session_start(b"", session_type=concurrent).session_id
    # Out of order: the middle part first, then the first; the closing part
    # comes last (after a close no append is taken).
    dbx.files_upload_session_append_v2(parts[1], files.UploadSessionCursor(sid, BLOCK))
    with pytest.raises(ApiError) as e:
        dbx.files_upload_session_append_v2(b"x" * 100, files.UploadSessionCursor(sid, 3 * BLOCK))
    assert api_error(e).is_concurrent_session_invalid_data_size()
    with pytest.raises(ApiError) as e:
        dbx.files_upload_session_append_v2(parts[0], files.UploadSessionCursor(sid, 1000))
    assert api_error(e).is_concurrent_session_invalid_offset()
    dbx.files_upload_session_append_v2(parts[0], files.UploadSessionCursor(sid, 0))
    dbx.files_upload_session_append_v2(
        parts[2], files.UploadSessionCursor(sid, 2 * BLOCK), close=True
    )
    with pytest.raises(ApiError) as e:
        dbx.files_upload_session_append_v2(parts[0], files.UploadSessionCursor(sid, 0))
    assert api_error(e).is_closed()
    commit = files.CommitInfo(folder + "/conc.bin")
    with pytest.raises(ApiError) as e:
        dbx.files_upload_session_finish(b"z", files.UploadSessionCursor(sid, len(whole)), commit)
    assert api_error(e).is_concurrent_session_data_not_allowed()
    # The SDK sends the hash of this call's (empty) data; the whole file's
    # hash would be refused.
    with pytest.raises(ApiError) as e:
        dbx.files_upload_session_finish(
            b"", files.UploadSessionCursor(sid, len(whole)), commit, content_hash=content_hash(whole)
        )
    assert api_error(e).is_content_hash_mismatch()
    meta = dbx.files_upload_session_finish(b"", files.UploadSessionCursor(sid, len(whole)), commit)
    check_file(meta, folder + "/conc.bin", whole)


def test_upload_session_concurrent_missing_data(dbx, folder):
    sid = dbx.files_upload_session_start(
        b"", session_type=files.UploadSessionType.concurrent
    ).session_id
    dbx.files_upload_session_append_v2(big(BLOCK), files.UploadSessionCursor(sid, BLOCK))
    dbx.files_upload_session_append_v2(b"end", files.UploadSessionCursor(sid, 2 * BLOCK), close=True)
    with pytest.raises(ApiError) as e:
        dbx.files_upload_session_finish(
            b"", files.UploadSessionCursor(sid, 2 * BLOCK + 3), files.CommitInfo(folder + "/gap")
        )
    assert api_error(e).is_concurrent_session_missing_data()


def test_upload_session_concurrent_part_hash(dbx, folder):
    sid = dbx.files_upload_session_start(
        b"", session_type=files.UploadSessionType.concurrent
    ).session_id
    part = big(BLOCK, 9)
    with pytest.raises(ApiError) as e:
        dbx.files_upload_session_append_v2(
            part, files.UploadSessionCursor(sid, 0), content_hash=content_hash(b"nope")
        )
    assert api_error(e).is_content_hash_mismatch()
    dbx.files_upload_session_append_v2(part, files.UploadSessionCursor(sid, 0), close=True)
    meta = dbx.files_upload_session_finish(
        b"", files.UploadSessionCursor(sid, BLOCK), files.CommitInfo(folder + "/ph.bin")
    )
    check_file(meta, folder + "/ph.bin", part)


def test_upload_session_concurrent_not_closed(dbx, folder):
    sid = dbx.files_upload_session_start(
        b"", session_type=files.UploadSessionType.concurrent
    ).session_id
    dbx.files_upload_session_append_v2(big(BLOCK), files.UploadSessionCursor(sid, 0))
    with pytest.raises(ApiError) as e:
        dbx.files_upload_session_finish(
            b"", files.UploadSessionCursor(sid, BLOCK), files.CommitInfo(folder + "/nc")
        )
    assert api_error(e).is_concurrent_session_not_closed()


def test_concurrent_sessions_in_parallel_threads(dbx, folder):
    datas = [big(2 * BLOCK + 10 * i, 10 + i) for i in range(3)]
    results, errors = {}, []

    def one(i):
        try:
            results[i] = Uploader(dbx).upload(
                BytesUpload(datas[i]),
                files.CommitInfo(folder + "/par%d.bin" % i),
                UploadOptions(parallel_uploads=3),
            )
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for i, data in enumerate(datas):
        check_file(results[i].metadata, folder + "/par%d.bin" % i, data)


def test_sdk_transfer_helpers(dbx, folder):
    data = big(9 * MIB + 17, 7)
    seq = Uploader(dbx).upload(BytesUpload(data), files.CommitInfo(folder + "/seq.bin"))
    check_file(seq.metadata, folder + "/seq.bin", data)
    par = Uploader(dbx).upload(
        BytesUpload(data), files.CommitInfo(folder + "/par.bin"), UploadOptions(parallel_uploads=2)
    )
    check_file(par.metadata, folder + "/par.bin", data)
    target = Bytes()
    Downloader(dbx).download(folder + "/par.bin", target, DownloadOptions(parallel_downloads=3))
    assert target.bytes() == data
    target = Bytes()
    Downloader(dbx).download(folder + "/seq.bin", target)
    assert target.bytes() == data


def test_start_batch_and_finish_batch(dbx, folder):
    res = dbx.files_upload_session_start_batch(3)
    assert isinstance(res, files.UploadSessionStartBatchResult)
    ids = res.session_ids
    assert len(ids) == 3 and len(set(ids)) == 3
    datas = [data_of(100 + i, i) for i in range(3)]
    for sid, data in zip(ids, datas):
        dbx.files_upload_session_append_v2(data, files.UploadSessionCursor(sid, 0), close=True)
    dbx.files_upload(b"occupied", folder + "/b2.txt")
    entries = [
        files.UploadSessionFinishArg(
            files.UploadSessionCursor(sid, len(d)), files.CommitInfo(folder + "/b%d.txt" % i)
        )
        for i, (sid, d) in enumerate(zip(ids, datas))
    ]
    entries.append(
        files.UploadSessionFinishArg(
            files.UploadSessionCursor("no-such-session", 0), files.CommitInfo(folder + "/b9.txt")
        )
    )
    out = dbx.files_upload_session_finish_batch_v2(entries)
    assert isinstance(out, files.UploadSessionFinishBatchResult)
    assert len(out.entries) == 4
    for i in range(2):
        assert out.entries[i].is_success()
        check_file(out.entries[i].get_success(), folder + "/b%d.txt" % i, datas[i])
    failure = out.entries[2].get_failure()
    assert failure.is_path() and failure.get_path().get_conflict().is_file()
    failure = out.entries[3].get_failure()
    assert failure.is_lookup_failed() and failure.get_lookup_failed().is_not_found()


def test_finish_batch_content_hash_covers_no_data(dbx, folder):
    a = dbx.files_upload_session_start(b"aaa", close=True).session_id
    b = dbx.files_upload_session_start(b"bbb", close=True).session_id
    out = dbx.files_upload_session_finish_batch_v2(
        [
            files.UploadSessionFinishArg(
                files.UploadSessionCursor(a, 3),
                files.CommitInfo(folder + "/a.txt"),
                content_hash=content_hash(b"aaa"),
            ),
            files.UploadSessionFinishArg(
                files.UploadSessionCursor(b, 3),
                files.CommitInfo(folder + "/b.txt"),
                content_hash=EMPTY_HASH,
            ),
        ]
    )
    assert out.entries[0].get_failure().is_content_hash_mismatch()
    check_file(out.entries[1].get_success(), folder + "/b.txt", b"bbb")


def test_start_batch_concurrent(dbx, folder):
    ids = dbx.files_upload_session_start_batch(
        2, session_type=files.UploadSessionType.concurrent
    ).session_ids
    with pytest.raises(ApiError) as e:
        dbx.files_upload_session_append_v2(b"x" * 10, files.UploadSessionCursor(ids[0], 5))
    assert api_error(e).is_concurrent_session_invalid_offset()


def test_finish_batch_not_closed(dbx, folder):
    sid = dbx.files_upload_session_start(b"open").session_id
    out = dbx.files_upload_session_finish_batch_v2(
        [
            files.UploadSessionFinishArg(
                files.UploadSessionCursor(sid, 4), files.CommitInfo(folder + "/nc.txt")
            )
        ]
    )
    failure = out.entries[0].get_failure()
    assert failure.get_lookup_failed().is_not_closed()


def _delete_batch(dbx, paths):
    """Launches a delete batch and polls it: the launched job, every check's status."""
    launch = dbx.files_delete_batch([files.DeleteArg(p) for p in paths])
    assert isinstance(launch, files.DeleteBatchLaunch)
    assert launch.is_async_job_id(), launch
    job = launch.get_async_job_id()
    statuses = []
    for _ in range(10):
        status = dbx.files_delete_batch_check(job)
        assert isinstance(status, files.DeleteBatchJobStatus)
        statuses.append(status)
        if not status.is_in_progress():
            break
    return job, statuses


def test_delete_batch_deletes_files_and_folders(dbx, folder):
    dbx.files_upload(b"one", folder + "/One.csv")
    dbx.files_upload(b"two", folder + "/sub/two.csv")
    dbx.files_upload(b"keep", folder + "/keep.csv")
    job, statuses = _delete_batch(
        dbx, [folder + "/one.csv", folder + "/sub", folder + "/gone.csv", folder + "/keep.csv/x"]
    )
    assert statuses[0].is_in_progress()
    done = statuses[-1]
    assert done.is_complete(), done
    entries = done.get_complete().entries
    assert len(entries) == 4
    meta = entries[0].get_success().metadata
    check_file(meta, folder + "/One.csv", b"one")
    assert isinstance(entries[1].get_success().metadata, files.FolderMetadata)
    assert entries[2].get_failure().get_path_lookup().is_not_found()
    assert entries[3].get_failure().get_path_lookup().is_not_folder()
    for gone in ("/One.csv", "/sub", "/sub/two.csv"):
        with pytest.raises(ApiError) as e:
            dbx.files_get_metadata(folder + gone)
        assert api_error(e).get_path().is_not_found()
    assert dbx.files_get_metadata(folder + "/keep.csv").size == 4
    # A finished job keeps answering.
    again = dbx.files_delete_batch_check(job)
    assert again.is_complete() and len(again.get_complete().entries) == 4


def test_delete_batch_parent_rev(dbx, folder):
    old = dbx.files_upload(b"v1", folder + "/r.csv")
    new = dbx.files_upload(b"v2", folder + "/r.csv", mode=files.WriteMode.overwrite)
    launch = dbx.files_delete_batch([files.DeleteArg(folder + "/r.csv", parent_rev=old.rev)])
    status = dbx.files_delete_batch_check(launch.get_async_job_id())
    status = dbx.files_delete_batch_check(launch.get_async_job_id())
    failure = status.get_complete().entries[0].get_failure()
    assert failure.is_path_write() and failure.get_path_write().get_conflict().is_file()
    launch = dbx.files_delete_batch([files.DeleteArg(folder + "/r.csv", parent_rev=new.rev)])
    dbx.files_delete_batch_check(launch.get_async_job_id())
    status = dbx.files_delete_batch_check(launch.get_async_job_id())
    check_file(status.get_complete().entries[0].get_success().metadata, folder + "/r.csv", b"v2")


def test_delete_batch_entry_fault_and_bad_job(dbx, emulator, folder):
    dbx.files_upload(b"a", folder + "/a.csv")
    dbx.files_upload(b"b", folder + "/b.csv")
    emulator.fault("files/delete_batch", "no_write_permission", skip=1)
    _, statuses = _delete_batch(dbx, [folder + "/a.csv", folder + "/b.csv"])
    entries = statuses[-1].get_complete().entries
    assert entries[0].is_success()
    assert entries[1].get_failure().get_path_write().is_no_write_permission()
    assert dbx.files_get_metadata(folder + "/b.csv").size == 1
    with pytest.raises(ApiError) as e:
        dbx.files_delete_batch_check("dbjid:no-such-job")
    assert api_error(e).is_invalid_async_job_id()


# ---------- errors: auth, rate limits, server errors, faults ----------


def test_invalid_token_is_auth_error(emulator):
    bad = dropbox.Dropbox(
        oauth2_access_token="not-a-token",
        session=dropbox.create_session(ca_certs=emulator.cert),
    )
    with pytest.raises(AuthError) as e:
        bad.users_get_current_account()
    assert e.value.error.is_invalid_access_token()


def test_expired_token_fault_is_auth_error(dbx, emulator):
    # Without a refresh token the SDK retries once as it is, then gives up.
    emulator.fault("files/list_folder", "expired_access_token", times=2)
    with pytest.raises(AuthError) as e:
        dbx.files_list_folder("")
    assert e.value.error.is_expired_access_token()


@pytest.mark.parametrize(
    "kind,reason",
    [("too_many_requests", "too_many_requests"), ("too_many_write_operations", "too_many_write_operations")],
)
def test_rate_limit_json(dbx, emulator, kind, reason):
    emulator.fault("users/get_current_account", kind, retry_after=3)
    with pytest.raises(RateLimitError) as e:
        dbx.users_get_current_account()
    assert e.value.backoff == 3
    assert getattr(e.value.error.reason, "is_" + reason)()
    assert e.value.error.retry_after == 3


def test_rate_limit_text(dbx, emulator):
    emulator.fault("users/get_current_account", "too_many_requests_text", retry_after=2)
    with pytest.raises(RateLimitError) as e:
        dbx.users_get_current_account()
    assert e.value.error is None
    assert e.value.backoff == 2


def test_rate_limit_retried_after_retry_after(dbx, emulator):
    patient = dbx.clone(max_retries_on_rate_limit=2)
    emulator.fault("files/upload", "too_many_write_operations", retry_after=1)
    t0 = time.monotonic()
    meta = patient.files_upload(b"later", "/sdk/rate-limited.txt", mode=files.WriteMode.overwrite)
    assert time.monotonic() - t0 >= 1.0
    assert meta.size == 5


def test_server_error(dbx, emulator):
    emulator.fault("files/get_metadata", "server_error", status=503)
    with pytest.raises(InternalServerError) as e:
        dbx.files_get_metadata("/sdk")
    assert e.value.status_code == 503


def test_server_error_retried(dbx, emulator):
    patient = dbx.clone(max_retries_on_error=2)
    emulator.fault("files/get_metadata", "server_error")
    assert isinstance(patient.files_get_metadata("/sdk"), files.FolderMetadata)


def test_write_contention_shapes(dbx, emulator, folder):
    emulator.fault("files/upload", "write_contention")
    with pytest.raises(ApiError) as e:
        dbx.files_upload(b"x", folder + "/w.txt")
    assert api_error(e).get_path().reason.is_too_many_write_operations()
    emulator.fault("files/create_folder_v2", "write_contention")
    with pytest.raises(ApiError) as e:
        dbx.files_create_folder_v2(folder + "/w")
    assert api_error(e).get_path().is_too_many_write_operations()
    start = dbx.files_upload_session_start(b"abc", close=True)
    emulator.fault("files/upload_session/finish", "write_contention")
    with pytest.raises(ApiError) as e:
        dbx.files_upload_session_finish(
            b"", files.UploadSessionCursor(start.session_id, 3), files.CommitInfo(folder + "/w2")
        )
    err = api_error(e)
    assert err.is_too_many_write_operations() or err.get_path().is_too_many_write_operations()


def test_insufficient_space_shapes(dbx, emulator, folder):
    emulator.fault("files/upload", "insufficient_space")
    with pytest.raises(ApiError) as e:
        dbx.files_upload(b"x", folder + "/s.txt")
    assert api_error(e).get_path().reason.is_insufficient_space()
    start = dbx.files_upload_session_start(b"abc", close=True)
    emulator.fault("files/upload_session/finish", "insufficient_space")
    with pytest.raises(ApiError) as e:
        dbx.files_upload_session_finish(
            b"", files.UploadSessionCursor(start.session_id, 3), files.CommitInfo(folder + "/s2")
        )
    assert api_error(e).get_path().is_insufficient_space()


def test_session_lost_shapes(dbx, emulator, folder):
    start = dbx.files_upload_session_start(b"abc")
    emulator.fault("files/upload_session/append_v2", "session_lost")
    with pytest.raises(ApiError) as e:
        dbx.files_upload_session_append_v2(b"d", files.UploadSessionCursor(start.session_id, 3))
    assert api_error(e).is_not_found()
    start = dbx.files_upload_session_start(b"abc", close=True)
    emulator.fault("files/upload_session/finish", "session_lost")
    with pytest.raises(ApiError) as e:
        dbx.files_upload_session_finish(
            b"", files.UploadSessionCursor(start.session_id, 3), files.CommitInfo(folder + "/l")
        )
    assert api_error(e).get_lookup_failed().is_not_found()


def test_dropped_connection(dbx, emulator):
    emulator.fault("users/get_current_account", "drop")
    with pytest.raises(requests.exceptions.RequestException):
        dbx.users_get_current_account()
    assert dbx.users_get_current_account().account_id


# ---------- OAuth ----------


def authorize(emulator, flow):
    url = flow.start()
    assert url.startswith("https://127.0.0.1:")
    page = requests.get(url, verify=emulator.cert, allow_redirects=False)
    assert page.status_code == 200, page.text
    m = re.search(r'id="auth-code">([^<]+)<', page.text)
    assert m, page.text
    return m.group(1)


def test_oauth_pkce_offline_refresh_and_revoke(emulator):
    flow = dropbox.DropboxOAuth2FlowNoRedirect(
        APP_KEY, use_pkce=True, token_access_type="offline", ca_certs=emulator.cert
    )
    result = flow.finish(authorize(emulator, flow))
    assert result.access_token and result.refresh_token
    assert result.expires_at is not None
    assert re.fullmatch(r"dbid:[A-Za-z0-9_-]{35}", result.account_id)
    session = dropbox.create_session(ca_certs=emulator.cert)
    client = dropbox.Dropbox(
        oauth2_access_token=result.access_token,
        oauth2_refresh_token=result.refresh_token,
        oauth2_access_token_expiration=result.expires_at,
        app_key=APP_KEY,
        session=session,
    )
    acct = client.users_get_current_account()
    assert acct.account_id == result.account_id
    # An expired token is refreshed once, then the call is retried.
    emulator.fault("users/get_current_account", "expired_access_token")
    first = client._oauth2_access_token
    assert client.users_get_current_account().account_id == result.account_id
    assert client._oauth2_access_token != first
    client.refresh_access_token()
    client.users_get_current_account()
    # Revoking disables the token and its refresh token.
    client.auth_token_revoke()
    with pytest.raises(AuthError) as e:
        client.files_list_folder("")
    assert e.value.error.is_invalid_access_token()
    with pytest.raises(AuthError):
        client.refresh_access_token()


def test_oauth_wrong_verifier_is_refused(emulator):
    flow = dropbox.DropboxOAuth2FlowNoRedirect(APP_KEY, use_pkce=True, ca_certs=emulator.cert)
    code = authorize(emulator, flow)
    flow.code_verifier = "x" * 64
    with pytest.raises(requests.exceptions.HTTPError):
        flow.finish(code)


def test_oauth_online_has_no_refresh_token(emulator):
    flow = dropbox.DropboxOAuth2FlowNoRedirect(
        APP_KEY, use_pkce=True, token_access_type="online", ca_certs=emulator.cert
    )
    result = flow.finish(authorize(emulator, flow))
    assert result.access_token and result.refresh_token == ""


def test_oauth_redirect_flow(emulator):
    web_session = {}
    flow = dropbox.DropboxOAuth2Flow(
        APP_KEY,
        "http://127.0.0.1:53682/callback",
        web_session,
        "csrf",
        use_pkce=True,
        token_access_type="offline",
        ca_certs=emulator.cert,
    )
    url = flow.start(url_state="run-7")
    page = requests.get(url, verify=emulator.cert, allow_redirects=False)
    assert page.status_code == 302
    location = page.headers["Location"]
    assert location.startswith("http://127.0.0.1:53682/callback?")
    query = dict(parse_qsl(urlsplit(location).query))
    result = flow.finish(query)
    assert result.url_state == "run-7"
    assert result.refresh_token


def test_oauth_unknown_client_is_refused(emulator):
    flow = dropbox.DropboxOAuth2FlowNoRedirect("wrong-key", use_pkce=True, ca_certs=emulator.cert)
    page = requests.get(flow.start(), verify=emulator.cert)
    assert page.status_code == 400


def test_every_route_was_exercised(emulator):
    """Runs last (file order): every route the emulator serves went through the SDK."""
    served = {
        "users/get_current_account",
        "auth/token/revoke",
        "files/list_folder",
        "files/list_folder/continue",
        "files/create_folder_v2",
        "files/get_metadata",
        "files/upload",
        "files/upload_session/start",
        "files/upload_session/append_v2",
        "files/upload_session/finish",
        "files/upload_session/start_batch",
        "files/upload_session/finish_batch_v2",
        "files/download",
        "files/delete_batch",
        "files/delete_batch/check",
        "oauth2/token",
    }
    seen = {e["route"] for e in emulator.log()}
    assert served <= seen, sorted(served - seen)
