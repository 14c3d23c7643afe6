"""Download a call's recording from the history: it is the MP3 the app keeps, agent left, customer right."""

from pathlib import Path

from call_center.testing import History, Softphone, channel_matches, recording_of, say


def test_recording_download_has_the_right_channels(call_center_app, agent_page, test_phone):
    customer = say("Good evening, I would like to change my delivery address please.", pitch=80)
    phone = test_phone("+201000000004", voice=customer)
    softphone = Softphone(agent_page)
    softphone.dial("01000000004")
    phone.answer()
    softphone.wait_for_state("in-progress")
    agent_page.wait_for_timeout(4000)  # a few seconds of conversation to compare
    softphone.hang_up()

    call = call_center_app.wait_for_call(customer_number="+201000000004")
    recording = recording_of(call_center_app, call)
    row = History(agent_page).open().row(call).wait_for_recording()
    with agent_page.expect_download() as download:
        row.download.click()
    assert Path(download.value.path()).read_bytes() == recording.mp3
    assert channel_matches(recording.channel("customer"), recording.rate, customer) > 0.5
    assert channel_matches(recording.channel("customer"), recording.rate, customer) > channel_matches(
        recording.channel("agent"), recording.rate, customer
    )
