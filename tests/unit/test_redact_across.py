"""redact_across(): a CPR or phone number split over two messages is redacted in both."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.privacy.across import redact_across, redact_split_numbers, replace_text, starts_with_number


@pytest.mark.parametrize(
    "previous, text, expected",
    [
        ("mit cpr er 130492", "7141", ("mit cpr er [cpr]", "[cpr]")),
        ("130492-", "7141", ("[cpr]", "[cpr]")),
        ("130492", "- 7141 tak", ("[cpr]", "[cpr] tak")),
        ("my CPR is 130492", "7141, thanks", ("my CPR is [cpr]", "[cpr], thanks")),
        ("BS 12, cpr 130492", "7141", ("BS 12, cpr [cpr]", "[cpr]")),
        ("ring 6172", "8391", ("ring [phone]", "[phone]")),
        ("mit nummer er 61 72", "83 91", ("mit nummer er [phone]", "[phone]")),
        ("+45 6172", "8391 tak", ("[phone]", "[phone] tak")),
        ("0045", "61728391", ("[phone]", "[phone]")),
        ("call me on +1 (555) 301", "4167", ("call me on [phone]", "[phone]")),
        ("my number is 6172", "8391 thanks", ("my number is [phone]", "[phone] thanks")),
        ("6172", "8391", ("[phone]", "[phone]")),
    ],
)
def test_a_split_number_is_redacted_in_both_messages(previous, text, expected):
    assert redact_across(previous, text) == expected


@pytest.mark.parametrize(
    "previous, text",
    [
        ("hun blev født i 1992", "2010 fik hun diabetes"),  # two years, no phone number
        ("she was born in 1992", "2010 she got diabetes"),
        ("BS 12", "14 i nat"),
        ("BS 5,6", "7,8"),
        ("min søn er 9", "år gammel"),
        ("ring 61 72 83 91", "22"),  # the first message held a whole number already
        ("cpr 130492.", "7141"),  # a full stop ends the first part
        ("kl. 22.30", "23.45"),
        ("", "7141"),
        ("130492", ""),
        ("130492", "7141abc"),
    ],
)
def test_numbers_that_do_not_belong_together_stay(previous, text):
    assert redact_across(previous, text) == (previous, text)


def test_only_a_message_that_starts_with_a_number_can_be_a_second_part():
    assert starts_with_number("7141")
    assert starts_with_number(" -7141 tak")
    assert not starts_with_number("hej 7141")
    assert not starts_with_number(None)


def test_replace_text_leaves_longer_numbers_alone():
    event = {"text": "7141", "parse_data": {"text": "7141"}, "metadata": {"note": "17141 and 7141"}, "n": 7141}
    assert replace_text(event, "7141", "[cpr]") == {
        "text": "[cpr]", "parse_data": {"text": "[cpr]"}, "metadata": {"note": "17141 and [cpr]"}, "n": 7141,
    }


def user(text):
    return {"event": "user", "text": text, "parse_data": {"text": text}, "metadata": {}}


def slot(value):
    return {"event": "slot", "name": "intent_hint", "value": value}


def test_split_numbers_in_a_list_of_events():
    events = [user("mit cpr er 130492"), slot("mit cpr er 130492"), user("7141"), slot("7141"), user("tak")]
    assert redact_split_numbers(None, events) is None
    assert [e.get("text", e.get("value")) for e in events] == ["mit cpr er [cpr]", "mit cpr er [cpr]", "[cpr]", "[cpr]", "tak"]
    assert events[0]["parse_data"]["text"] == "mit cpr er [cpr]"


def test_the_stored_previous_message_is_returned_when_it_changes():
    events = [user("7141"), slot("7141")]
    assert redact_split_numbers("mit cpr er 130492", events) == "mit cpr er [cpr]"
    assert events == [user("[cpr]"), slot("[cpr]")]
    assert redact_split_numbers("hej", [user("7141")]) is None


@settings(max_examples=200, deadline=None)
@given(
    day=st.integers(1, 31), month=st.integers(1, 12), year=st.integers(0, 99), serial=st.integers(0, 9999),
    cut=st.sampled_from(["", "-", " - "]), before=st.sampled_from(["", "mit cpr er ", "my CPR is ", "cpr: "]),
    after=st.sampled_from(["", " tak", ", thanks", "."]),
)
def test_any_cpr_number_split_in_two_is_redacted(day, month, year, serial, cut, before, after):
    first, second = f"{before}{day:02d}{month:02d}{year:02d}", f"{serial:04d}{after}"
    if cut.strip():
        first, second = (first + cut, second) if cut == "-" else (first, cut.strip() + " " + second)
    previous, text = redact_across(first, second)
    assert previous == f"{before}[cpr]"
    assert text == f"[cpr]{after}"
