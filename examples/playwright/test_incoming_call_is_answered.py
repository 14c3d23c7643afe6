"""A customer calls the company: the agent's softphone rings, the agent answers, both hear each other."""

from call_center.testing import Softphone


def test_incoming_call_is_answered(call_center_app, agent_page, test_phone):
    phone = test_phone("+201000000002")
    softphone = Softphone(agent_page)
    phone.call_company()
    softphone.incoming().wait().accept()
    softphone.wait_for_state("in-progress")
    assert softphone.heard() > 0.01 and phone.heard() > 0.01
    phone.hang_up()
    softphone.wait_for_outcome("completed")
    assert call_center_app.wait_for_call(direction="inbound")["status"] == "completed"
