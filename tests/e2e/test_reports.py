"""The supervisor's dashboard in a real browser: today's calls counted, the charts drawn, the texts in the
page's language and digits; an agent is kept out."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from openpyxl import load_workbook
from playwright.sync_api import expect

from call_center.testing import Reports, Softphone
from call_center.testing.pages import tid
from tests.e2e.conftest import log_in


def _count(text: str) -> int:
    return int(text.replace(",", "").replace("٬", "").translate(str.maketrans("٠١٢٣٤٥٦٧٨٩", "0123456789")))


def test_the_dashboard_counts_todays_calls_and_draws_its_charts(app, agent_page, new_page):
    agent = Softphone(agent_page, app)
    agent.dial("1000")  # the echo line answers: an outbound call the agent handled
    agent.wait_for_state("in-progress")
    agent.hang_up()
    agent.wait_for_outcome("completed")
    app.wait_for_call(customer_number="1000", status="completed", agent_name="Test Agent")

    page = new_page()
    log_in(page, app, path="/reports")
    reports = Reports(page, app)
    expect(tid(page, "reports")).to_be_visible()
    reports.preset(0)  # today
    expect(reports.agent_row("Test Agent")).to_be_visible()
    assert _count(reports.kpi("handled")) >= 1 and _count(reports.kpi("outbound")) >= 1
    expect(reports.bars("volume").first).to_be_visible()  # recharts drew the day's bars
    expect(page.locator(".heat-cell:not(.heat-0)").first).to_be_visible()  # this hour has calls
    expect(tid(page, "reports-definitions")).to_contain_text("مستوى الخدمة")
    expect(tid(page, "reports-thresholds")).to_contain_text("20")

    # the tables as files: what the page shows (Arabic headers, the same counts)
    # (Playwright's download has no file extension, which openpyxl insists on: read the bytes)
    book = load_workbook(io.BytesIO(reports.export().read_bytes()), read_only=True)
    assert "حسب الموظف" in book.sheetnames
    per_agent = [list(r) for r in book["حسب الموظف"].iter_rows(values_only=True)]
    mine = next(r for r in per_agent[1:] if r[0] == "Test Agent")
    handled = reports.agent_row("Test Agent").locator("td").nth(1).inner_text()
    assert mine[1] == _count(handled)
    rows = list(csv.reader(io.StringIO(reports.export("summary").read_bytes().decode("utf-8-sig"))))
    assert rows[0] == ["المؤشر", "القيمة"] and len(rows) > 10

    reports.switch_language()
    expect(page.locator('[data-kpi="service_level"] .kpi-label')).to_have_text("Service level")
    expect(tid(page, "reports-definitions")).to_contain_text("Abandoned ÷ offered.")
    reports.switch_language()

    # Arabic-Indic digits, the admin's own choice (My account), on the Arabic dashboard
    page.goto(f"{app.url}/account")
    tid(page, "account-digits").select_option("arab")
    expect(tid(page, "account-display-notice")).to_be_visible()
    try:
        reports.open()
        expect(page.locator('[data-kpi="handled"] [data-testid="kpi-value"]')).to_have_text(
            re.compile(r"^[٠-٩٬]+$")
        )
        expect(tid(page, "reports-thresholds")).to_contain_text("٢٠")
    finally:  # the admin account is shared by the suite's other tests
        page.goto(f"{app.url}/account")
        tid(page, "account-digits").select_option("latn")
        expect(tid(page, "account-display-notice")).to_be_visible()

    # an agent is sent back to the call center
    agent_page.goto(f"{app.url}/reports")
    expect(agent_page).to_have_url(re.compile(r"/call-center/?$"))
    expect(tid(agent_page, "nav-reports")).to_have_count(0)


def test_the_history_counts_its_calls_in_the_languages_plural_forms(app, admin_page):
    from call_center.core import locale
    from call_center.testing import History

    history = History(admin_page, app).open()
    with app.api() as client:  # every call, as the admin sees them (no call is in progress now)
        count = client.get("/api/calls", params={"page_size": 1}).json()["count"]
    total = tid(admin_page, "history-total")
    expect(total).to_have_text(locale.plural("count.calls", count, "ar"))  # e.g. "11 مكالمة", "3 مكالمات"
    history.switch_language()
    expect(total).to_have_text(locale.plural("count.calls", count, "en"))
    history.switch_language()
    # the export downloads what the history lists (with its filters): every call here, headers in Arabic
    with admin_page.expect_download() as download:
        tid(admin_page, "history-export-csv").click()
    text = Path(download.value.path()).read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "رقم المكالمة" and len(rows) - 1 == count
    with app.api() as client:
        newest = client.get("/api/calls", params={"page_size": 5}).json()["data"]
    assert [int(r[0]) for r in rows[1:6]] == [c["id"] for c in newest]
