"""Exports of the call list (SQLite and PostgreSQL): CSV with a BOM and XLSX, Arabic intact, rows equal to
the filtered history the same viewer gets from GET /api/calls. The calls come in through the app's own
queue path (tests/support/local_calls)."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from call_center.models import Call
from call_center.services import call_control
from tests.conftest import make_agent
from tests.integration.conftest import login
from tests.support.local_calls import calls_in, media_reports, online_agent, record_media


@pytest.fixture
def calls(db, monkeypatch):
    record_media(monkeypatch)
    sara = online_agent(db, "sara@example.com")
    taken = calls_in(db, "+201000000091")
    call_control.claim(db, db.get(Call, taken.id), sara.id)
    media_reports(db, taken, "in-progress")
    media_reports(db, taken, "completed", by="customer")
    for number in ("+201000000092", "+201000000093"):
        media_reports(db, calls_in(db, number), "canceled", by="customer")
    make_agent(db, email="boss@example.com", name="المدير", role="admin")
    return sara


def test_the_csv_and_xlsx_exports_are_the_filtered_history(client, calls):
    login(client, "boss@example.com")
    for params in ({}, {"status": "canceled"}, {"q": "0100 000 0092"}):
        listed = [c["id"] for c in client.get("/api/calls", params=params).json()["data"]]
        response = client.get("/api/calls/export", params={**params, "format": "csv", "lang": "ar"})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        assert response.content.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 with the BOM only
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert rows[0][0] == "رقم المكالمة" and rows[0][1] == "البداية"
        assert [int(r[0]) for r in rows[1:]] == listed, params
        xlsx = client.get("/api/calls/export", params={**params, "format": "xlsx", "lang": "en"})
        assert xlsx.status_code == 200
        sheet = load_workbook(io.BytesIO(xlsx.content), read_only=True).active
        cells = [list(r) for r in sheet.iter_rows(values_only=True)]
        assert cells[0][:2] == ["Call id", "Started"]
        assert [int(r[0]) for r in cells[1:]] == listed, params
    everything = list(csv.reader(io.StringIO(client.get("/api/calls/export").content.decode("utf-8-sig"))))
    statuses = sorted(r[6] for r in everything[1:])
    assert statuses == sorted(["مكتملة", "أُلغيت", "أُلغيت"])


def test_an_agent_exports_only_their_own_calls_and_a_stranger_nothing(client, calls):
    assert client.get("/api/calls/export").status_code == 401
    login(client, "sara@example.com")
    rows = list(csv.reader(io.StringIO(client.get("/api/calls/export").content.decode("utf-8-sig"))))
    assert len(rows) == 2 and rows[1][3] == "+201000000091"  # the call she took; not the abandoned ones
    assert client.get("/api/calls/export", params={"format": "pdf"}).status_code == 422


def test_the_reports_tables_export_as_the_dashboard_computes_them(client, calls):
    from datetime import timedelta

    from call_center.core.config import get_settings
    from call_center.models.base import utcnow
    from call_center.services import reports

    today = utcnow().astimezone(get_settings().zone).date()
    params = {"from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat()}
    login(client, "sara@example.com")  # an agent: not theirs
    assert client.get("/api/reports/export", params=params).status_code == 403
    login(client, "boss@example.com")
    data = reports.dashboard(today - timedelta(days=1), today, "", 0)
    assert data["summary"]["answered"] == 1  # the two callers who hung up at once are short abandons
    xlsx = client.get("/api/reports/export", params={**params, "lang": "ar"})
    assert xlsx.status_code == 200 and xlsx.headers["content-disposition"].endswith('.xlsx"')
    book = load_workbook(io.BytesIO(xlsx.content), read_only=True)
    assert book.sheetnames == ["الملخص", "حسب اليوم", "حسب الموظف", "نتائج المكالمات", "حسب الساعة"]
    summary = {r[0]: r[1] for r in book["الملخص"].iter_rows(min_row=2, values_only=True)}
    assert summary["تم الرد"] == 1 and summary["مستوى الخدمة (%)"] == 100.0
    days = [list(r) for r in book["حسب اليوم"].iter_rows(min_row=2, values_only=True)]
    assert [d[0] for d in days] == [params["from"], params["to"]] and days[1][1] == 1  # answered today
    agents_csv = client.get(
        "/api/reports/export", params={**params, "format": "csv", "table": "agents", "lang": "en"}
    )
    rows = list(csv.reader(io.StringIO(agents_csv.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Agent", "Calls", "Talk time (s)"]
    sara = next(r for r in rows[1:] if r[0] == calls.name)
    assert sara[1] == "1"
    bad = client.get("/api/reports/export", params={"from": params["to"], "to": params["from"]})
    assert bad.status_code == 422 and bad.json()["detail"]["code"] == "reports.error.range"
    assert (
        client.get("/api/reports/export", params={**params, "table": "nope", "format": "csv"}).status_code
        == 422
    )


def test_every_call_is_exported_once_across_batches_even_when_calls_share_a_start_time(
    client, calls, db, monkeypatch
):
    """The keyset batches seek past (created_at, id): calls that started in the same microsecond (two
    callers at once) are neither lost nor repeated at a batch's edge, with one or two rows per batch."""
    import sqlalchemy as sa

    from call_center.core.config import get_settings
    from call_center.services import exports

    ids = sorted(c.id for c in db.exec(sa.select(Call)).scalars())
    first = db.get(Call, ids[0])
    db.execute(sa.update(Call).where(Call.id.in_(ids[:3])).values(created_at=first.created_at))
    db.commit()
    login(client, "boss@example.com")
    listed = [c["id"] for c in client.get("/api/calls").json()["data"]]
    assert sorted(listed) == ids
    for batch in (1, 2, 3):
        monkeypatch.setattr(exports, "BATCH", batch)
        content = client.get("/api/calls/export", params={"lang": "en"}).content.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(content)))
        assert [int(r[0]) for r in rows[1:]] == listed, batch
    zone = get_settings().zone
    started = {int(r[0]): r[1] for r in rows[1:]}
    for call_id in ids:
        at = db.get(Call, call_id).created_at.astimezone(zone)
        assert started[call_id] == at.strftime("%Y-%m-%d %H:%M:%S")  # in TIMEZONE, to the second
    assert rows[1][2] == "Inbound" and rows[1][6] in ("Completed", "Canceled")
