"""Switching Arabic -> English in the middle of a call changes the page, not the call."""

from call_center.testing import Softphone


def test_language_switch_keeps_the_call(call_center_app, agent_page, test_phone):
    phone = test_phone("+201000000003")
    softphone = Softphone(agent_page)
    softphone.dial("01000000003")
    phone.answer()
    softphone.wait_for_state("in-progress")
    assert softphone.language == "ar"
    assert softphone.switch_language() == "en"
    assert agent_page.get_by_role("button", name="Hang up").is_visible()
    assert softphone.state == "in-progress" and phone.heard() > 0.01
    softphone.hang_up()
    phone.wait_for_state("ended")
