"""The customer declines the call: the agent sees "busy", and so does the history."""

from call_center.testing import History, Softphone


def test_customer_rejects_gives_busy(call_center_app, agent_page, test_phone):
    phone = test_phone("+201000000001")
    softphone = Softphone(agent_page)
    softphone.dial("01000000001")
    phone.reject()
    softphone.wait_for_outcome("busy")
    call = call_center_app.wait_for_call(status="busy")
    History(agent_page).open().row(call).wait_for_status("busy")
