"""Call the echo line: the agent hears their own voice, and the call is recorded on both channels."""

from call_center.testing import Softphone, agent_voice, channel_matches, recording_of


def test_echo_call_is_recorded(call_center_app, agent_page):
    softphone = Softphone(agent_page)
    softphone.dial("1000")
    softphone.wait_for_state("in-progress")
    assert softphone.heard() > 0.01
    softphone.hang_up()
    recording = recording_of(call_center_app, call_center_app.wait_for_call(customer_number="1000"))
    assert recording.channels == 2
    assert channel_matches(recording.channel("agent"), recording.rate, agent_voice()) > 0.5
