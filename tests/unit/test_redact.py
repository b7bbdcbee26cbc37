"""redact(): CPR numbers, phone numbers, e-mail and street addresses out; clinical text untouched."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.privacy.redact import ADDRESS, CPR, EMAIL, NAME, NUMBER, PHONE, PLACEHOLDERS, redact


@pytest.mark.parametrize(
    "cpr",
    [
        "010190-1234",
        "0101901234",
        "010190 1234",
        "010190 - 1234",
        "311299–1234",  # en dash
        "290200‐4321",  # hyphen U+2010
        "123456-7890",  # with a dash: redacted even when ddmm is no real date
        "3112994321",
    ],
)
def test_cpr_numbers_are_redacted(cpr):
    for text in (cpr, f"mit cpr er {cpr}.", f"CPR:{cpr}, tak", f"({cpr})"):
        redacted = redact(text)
        assert CPR in redacted, text
        assert not re.search(r"\d{4}", redacted), redacted


@pytest.mark.parametrize(
    "phone",
    [
        "12345678",
        "87654321",
        "12 34 56 78",
        "1234 5678",
        "12-34-56-78",
        "1234-5678",
        "+45 12 34 56 78",
        "+4512345678",
        "+45 1234 5678",
        "+45 12345678",
        "0045 12345678",
        "004512345678",
        "+46 70 123 45 67",
        "+44 20 7946 0958",
        "+1 (555) 123-4567",
        "+1 555 123 4567",
        "+49 30 12345678",
        "+353 1 234 5678",
        "0046701234567",
    ],
)
def test_phone_numbers_are_redacted(phone):
    for text in (phone, f"ring på {phone}.", f"tlf.: {phone}, tak", f"mit nr er {phone}!", f"({phone})"):
        redacted = redact(text)
        assert PHONE in redacted, text
        assert not re.search(r"\d", redacted), redacted


@pytest.mark.parametrize(
    "email",
    [
        "a@b.dk",
        "ole.hansen@example.com",
        "Ole.Hansen+loop@sub.example.co.uk",
        "søren@kødbyen.dk",
        "first_last-99@mail-server.org",
        "o'brien@example.ie",
    ],
)
def test_email_addresses_are_redacted(email):
    for text in (email, f"min mail er {email}.", f"<{email}>", f"skriv til {email}, tak"):
        redacted = redact(text)
        assert EMAIL in redacted, text
        assert "@" not in redacted and email not in redacted, redacted


@pytest.mark.parametrize(
    "clinical",
    [
        "5,6 mmol/l",
        "BS 12",
        "BS 12 i morges, 3,4 i nat",
        "0,6 E/t",
        "basal 0,85 E/t fra kl. 22-06",
        "HbA1c 53 mmol/mol (7,0 %)",
        "ISF 2,5 og CR 1:10",
        "4 E til morgenmad",
        "ketoner 1,6 mmol/l",
        "BS 120 140 180 200 mg/dl",
        "22 24 25 23 mmol/l",
        "kl. 22:30",
        "kl. 22.30",
        "12.03.2024",
        "12/03/2024",
        "2024-03-12",
        "min søn er 12 år og vejer 45 kg",
        "hun har haft diabetes i 10 år, Loop v3.2, Omnipod 5",
        "target 5,5-6,5",
        "1234",
        "ring 112",
        "1813",
    ],
)
def test_glucose_values_and_clinical_text_are_kept(clinical):
    assert redact(clinical) == clinical
    assert redact(f"Hej, {clinical}. Hvad siger I?") == f"Hej, {clinical}. Hvad siger I?"


def test_a_whole_message_keeps_everything_but_the_personal_data():
    text = (
        "Hej, jeg er Ole (cpr 010190-1234). BS 12 i morges og 5,6 mmol/l nu, basal 0,6 E/t. "
        "Ring på 12 34 56 78 eller +45 87654321, eller skriv til ole@example.dk."
    )
    assert redact(text) == (
        "Hej, jeg er Ole (cpr [cpr]). BS 12 i morges og 5,6 mmol/l nu, basal 0,6 E/t. "
        "Ring på [phone] eller [phone], eller skriv til [email]."
    )


def test_a_value_right_after_a_phone_number_is_kept():
    assert redact("+45 12345678 5,6 mmol/l") == "[phone] 5,6 mmol/l"
    assert redact("+46 70 123 45 67 12 mmol") == "[phone] 12 mmol"
    assert redact("ring 12345678 e-mail a@b.dk") == "ring [phone] e-mail [email]"


def test_other_long_numbers_are_redacted_as_numbers():
    assert redact("kontonr 1234 12345678901") == f"kontonr 1234 {NUMBER}"
    assert redact("serienummer 987654321") == f"serienummer {NUMBER}"


def test_redaction_is_idempotent_and_keeps_empty_text():
    text = "cpr 0101901234, tlf 12345678, a@b.dk"
    assert redact(redact(text)) == redact(text)
    assert redact("") == ""


def test_the_integration_message():
    text = "jeg vil gerne tale med et menneske, mit nummer er 12345678 og min mail er a@b.dk"
    assert redact(text) == "jeg vil gerne tale med et menneske, mit nummer er [phone] og min mail er [email]"


@settings(max_examples=200, deadline=None)
@given(
    day=st.integers(1, 31),
    month=st.integers(1, 12),
    year=st.integers(0, 99),
    serial=st.integers(0, 9999),
    separator=st.sampled_from(["", "-", " ", " - "]),
)
def test_any_cpr_number_is_redacted(day, month, year, serial, separator):
    cpr = f"{day:02d}{month:02d}{year:02d}{separator}{serial:04d}"
    assert redact(f"cpr {cpr} tak") == "cpr [cpr] tak"


@settings(max_examples=200, deadline=None)
@given(digits=st.text("0123456789", min_size=8, max_size=8), form=st.sampled_from(["{}", "{} {}", "{} {} {} {}", "+45 {}"]))
def test_any_danish_phone_number_is_redacted(digits, form):
    if form == "{} {}":
        number = f"{digits[:4]} {digits[4:]}"
    elif form == "{} {} {} {}":
        number = " ".join(digits[i:i + 2] for i in range(0, 8, 2))
    else:
        number = form.format(digits)
    redacted = redact(f"ring {number} tak")
    assert not re.search(r"\d", redacted), redacted


@settings(max_examples=200, deadline=None)
@given(whole=st.integers(0, 33), tenth=st.integers(0, 9), unit=st.sampled_from(["mmol/l", "mmol", "E/t", "E", "%"]))
def test_any_glucose_or_dose_value_is_kept(whole, tenth, unit):
    text = f"BS {whole},{tenth} {unit} og {whole} {unit}"
    assert redact(text) == text


# --- street addresses ------------------------------------------------------------------

ADDRESSES = [
    # Danish: street ending, house number, floor and side, postcode and town
    ("Jeg bor på Vestergade 12, 2. th., 8000 Aarhus C", "Jeg bor på [address]"),
    ("adressen er Nørrebrogade 44B st tv", "adressen er [address]"),
    ("Kongens Nytorv 3", "[address]"),
    ("Nørre Allé 5", "[address]"),
    ("Nørre Alle 5", "[address]"),
    ("nørre allé 5, 2200 København N", "[address]"),
    ("H.C. Andersens Boulevard 27, 1553 København V", "[address]"),
    ("Skt. Peders Stræde 3", "[address]"),
    ("vesterbros torv 3", "[address]"),
    ("Peter Bangs Vej 10", "[address]"),
    ("Gammel Kongevej 10", "[address]"),
    ("Gl. Kongevej 10", "[address]"),
    ("Store Kongensgade 5 st.", "[address]"),
    ("Ny Østergade 3, 1. sal", "[address]"),
    ("Strandvejen 100, 1.sal", "[address]"),
    ("Amagerbrogade 1-3", "[address]"),
    ("Vestergade nr. 12", "[address]"),
    ("Nørrebrogade 44 B", "[address]"),
    ("vestergade 12, 3. mf", "[address]"),
    ("Kongens Have 3", "[address]"),
    ("Vænget 3", "[address]"),
    ("vænget 3", "[address]"),
    ("Toften 12, 4000 Roskilde", "[address]"),
    ("Rosenhave 3", "[address]"),
    ("Bellahøj 20", "[address]"),
    ("Egelund 7, 2. tv., 8200 Aarhus N", "[address]"),
    ("Vestergade 12\n8000 Aarhus C", "[address]"),
    ("Vestergade 12 8000 Aarhus C og BS 5,6 mmol/l", "[address] og BS 5,6 mmol/l"),
    ("Vestergade 12, 8000 Aarhus C. BS 12", "[address]. BS 12"),
    ("Jeg bor på Vestergade 12. Min BS er 5", "Jeg bor på [address]. Min BS er 5"),
    ("Rigshospitalet, Blegdamsvej 9, 2100 København Ø", "Rigshospitalet, [address]"),
    (
        "boede på Frederiksberg Allé 12, 3. tv, 1820 Frederiksberg C, nu Vesterbrogade 2",
        "boede på [address], nu [address]",
    ),
    # a postcode and town right after an address that is already redacted
    ("[address], 2100 København Ø", "[address]"),
    ("[address]\n8000 Aarhus C", "[address]"),
    # English: house number first, capitalised street
    ("12 Baker Street", "[address]"),
    ("221B Baker St.", "[address]"),
    ("10 Downing Street, London", "[address]"),
    ("10 Downing Street, London SW1A 2AA", "[address]"),
    ("I live at 221B Baker Street, London NW1 6XE", "I live at [address]"),
    ("12 baker street", "[address]"),
    ("5 Park Lane", "[address]"),
    ("Flat 3, 12 Baker Street", "Flat 3, [address]"),
    # with the other kinds
    ("ring fra Vestergade 12 på 12345678", "ring fra [address] på [phone]"),
    ("12345678 E Vestergade 5", "[phone] [address]"),
]


@pytest.mark.parametrize("text, expected", ADDRESSES)
def test_street_addresses_are_redacted(text, expected):
    assert redact(text) == expected
    assert redact(expected) == expected


NOT_ADDRESSES = [
    # clinical text and figures
    "5,6 mmol/l",
    "BS 12",
    "basal 0,6 E/t",
    "HbA1c 53",
    "kl. 14",
    "2 timer",
    "type 1 diabetes",
    "i 2023",
    "Loop 3.2",
    "Loop v3.2",
    "AndroidAPS 3.2.0",
    "max IOB 4",
    "Omnipod 5",
    "Libre 2",
    "Dexcom G7",
    "Medtronic 780G",
    "side 12",
    "punkt 3",
    "BS skyhøj 25",
    "hun er 12 år og bor på Østerbro",
    # no house number
    "vejen til behandling",
    "Steno Center Copenhagen",
    "jeg bor på Vestergade",
    # street-like words with an amount or a time after them
    "vi var i parken 2 timer",
    "min søn går i børnehave 2 dage om ugen",
    "Vestergade 12,5 km",
    "Strandvejen 14:30",
    "på vejen 3 gange",
    # common words with a street ending
    "på vej 3",
    "alle 3 børn",
    "Alle 3 børn",
    "jeg skal have 2",
    "Skal have 2 til aften",
    "vi skal have 3 børn",
    "kongens have 3",
    "drengen 7",
    "luftvejen 3",
    "Danmark 2",
    "parken 3",
    # English
    "a 2 hour drive",
    "5 min walk",
    "my 2 cents",
    "Page 12",
    "Chapter 3 Way forward",
    "I was in Park Lane 5",
    # a postcode and town on their own
    "8000 Aarhus C",
    "København Ø 2100",
]


@pytest.mark.parametrize("text", NOT_ADDRESSES)
def test_clinical_text_and_ordinary_sentences_are_not_addresses(text):
    assert redact(text) == text
    assert ADDRESS not in redact(f"Hej, {text}. Hvad siger I?")


def test_the_placeholders_are_the_public_names():
    assert PLACEHOLDERS == (CPR, PHONE, EMAIL, NUMBER, ADDRESS, NAME)
    assert ADDRESS == "[address]"
    assert NAME == "[name]"
    for placeholder in PLACEHOLDERS:
        assert redact(placeholder) == placeholder


def test_a_message_with_every_kind():
    text = (
        "Jeg hedder Ole, cpr 010190-1234, bor på Vestergade 12, 2. th., 8000 Aarhus C, "
        "tlf 12 34 56 78, ole@example.dk. BS 12 i morges, basal 0,6 E/t, HbA1c 53."
    )
    redacted = redact(text)
    assert redacted == (
        "Jeg hedder [name], cpr [cpr], bor på [address], tlf [phone], [email]. BS 12 i morges, basal 0,6 E/t, HbA1c 53."
    )
    assert redact(redacted) == redacted


@pytest.mark.parametrize(
    "text",
    [
        "a" * 100_000 + " 1",
        "Vestergade " * 9_000 + "1",
        "Vestergade 1" * 8_000,
        "H. " * 30_000 + "Vej 1",
        "12 Baker " * 10_000,
        "1 " * 50_000,
        "[address], 8000 a" * 6_000,
        "".join("0123456789 abcæøA.,-@"[i * 7919 % 21] for i in range(100_000)),
    ],
)
def test_long_input_is_redacted_and_stays_redacted(text):
    # Linear patterns: each of these takes well under a second (not asserted, to keep CI calm).
    redacted = redact(text)
    assert redact(redacted) == redacted


def test_quotes_around_an_email_address_stay():
    assert redact("'ole@example.dk'") == "'[email]'"
    assert redact("\"o'brien@example.ie\"") == '"[email]"'


# --- formats a privacy probe found stored raw ------------------------------------------
# Each case below was stored as written before; in a Danish and an English sentence.

DANISH_CONTEXTS = ("{}", "mit nr er {}.", "Hej, ring på {}, tak", "({})")
ENGLISH_CONTEXTS = ("my number is {}.", "Hi, please call me on {}, thanks", "it's {}!")


def in_both_languages(item):
    return [context.format(item) for context in DANISH_CONTEXTS + ENGLISH_CONTEXTS]


@pytest.mark.parametrize("cpr", ["13.04.92-7121", "13.04.1992-7121", "13.04.92 - 7121", "01.01.90–1234"])
def test_cpr_numbers_with_dots_are_redacted(cpr):
    for text in in_both_languages(cpr) + [f"mit cpr er {cpr}", f"my CPR number is {cpr}"]:
        redacted = redact(text)
        assert CPR in redacted, text
        assert not re.search(r"\d", redacted), redacted


@pytest.mark.parametrize("date", ["13.04.92", "13.04.1992", "1.12.2025", "13.04.1992 kl. 22.30", "32.13.92-7121"])
def test_dates_with_dots_are_not_cpr_numbers(date):
    assert CPR not in redact(f"født {date}")
    assert CPR not in redact(f"born on {date}")


@pytest.mark.parametrize(
    "phone",
    [
        "61.72.83.91",
        "+45 61.72.83.91",
        "0045 6172 8396",
        "0045 61 72 83 97",
        "0045 61.72.83.91",
        "61 72 8391",
        "(555) 301-4167",
        "555-301-4167",
        "555.301.4167",
        "+1.555.301.4167",
        "+33 1.23.45.67.89",
        "+44 (0)20 7946 0958",
    ],
)
def test_phone_numbers_in_more_formats_are_redacted(phone):
    for text in in_both_languages(phone):
        redacted = redact(text)
        assert PHONE in redacted, text
        assert not re.search(r"\d", redacted), redacted


def test_a_north_american_number_with_its_country_code_is_one_phone_number():
    # Already redacted alone; in these sentences too, and never split in two.
    for text in in_both_languages("+1 (555) 301-4167"):
        assert redact(text) == text.replace("+1 (555) 301-4167", PHONE)


@pytest.mark.parametrize(
    "email",
    [
        "mette at gmail dot com",
        "mette.hansen at gmail dot com",
        "mette at gmail.com",
        "mette(at)gmail.com",
        "mette (at) gmail (dot) com",
        "mette [at] gmail [dot] com",
        "mette{at}example{dot}dk",
        "mette @ gmail.com",
        "mette@ gmail.com",
        "mette snabel-a gmail punktum com",
        "mette snabela gmail punktum dk",
        "Mette AT Gmail DOT Com",
        "mette [at] mail [dot] tele [dot] dk",
    ],
)
def test_email_addresses_written_out_are_redacted(email):
    for text in (email, f"min mail er {email}.", f"skriv til {email}, tak", f"my email is {email}.",
                 f"write to {email}, thanks"):
        redacted = redact(text)
        assert EMAIL in redacted, text
        assert "mette" not in redacted.lower() and "gmail" not in redacted.lower(), redacted


@pytest.mark.parametrize(
    "text",
    [
        "look at diabetes.dk",
        "se mere at diabetes.dk",
        "we met at school dot",
        "jeg har svært ved at sove punktum Det er svært",
        "I'm at home. Com",
        "hun prøver at spise. Dk",
        "prøv at gå ind på sundhed.dk",
    ],
)
def test_ordinary_sentences_with_at_and_dot_are_not_email_addresses(text):
    assert redact(text) == text


@pytest.mark.parametrize(
    "address",
    [
        "Strandboulevarden 12",
        "Strandboulevarden 12, 2100 København Ø",
        "Frederiksberg Allén 3",
        "Gammel Strand 61",
        "Gammel Mønt 14",
        "Gl. Mønt 14, 3. th.",
        "Lille Istedgade 9",
        "Kalvebod Brygge 5",
    ],
)
def test_more_street_names_are_addresses(address):
    for text in (address, f"Jeg bor på {address}.", f"adressen er {address}, tak", f"I live at {address}.",
                 f"my address is {address}, thanks"):
        redacted = redact(text)
        assert ADDRESS in redacted, text
        assert not re.search(r"\d", redacted), redacted


@pytest.mark.parametrize(
    "address",
    ["Gammel Kongevej 10", "Ny Østergade 3", "Store Kongensgade 40", "Strandvejen 100", "Nørregaden 4", "Skolestien 4",
     "Kirkepladsen 2", "Vestre Allé 8"],
)
def test_definite_and_two_word_street_names_are_addresses(address):
    """Some of these were redacted already; they stay so in both languages."""
    for text in (f"Jeg bor på {address}.", f"I live at {address}."):
        assert ADDRESS in redact(text), text
        assert not re.search(r"\d", redact(text)), redact(text)


@pytest.mark.parametrize(
    "text",
    ["Ny Omnipod 5", "Nye Libre 3 sensorer", "Store Type 1", "Lille Emil 4 år", "Gammel Loop 2.4", "Ny Dexcom G7"],
)
def test_a_prefix_word_before_a_product_or_an_age_is_no_address(text):
    assert redact(text) == text


NAMES = [
    ("jeg hedder Mette Hansen", "jeg hedder [name]"),
    ("Hej, jeg hedder Mette Hansen og min søn er 9 år", "Hej, jeg hedder [name] og min søn er 9 år"),
    ("mit navn er Lars", "mit navn er [name]"),
    ("Mit navn er Lars Peter Nielsen, BS 12", "Mit navn er [name], BS 12"),
    ("jeg hedder mette hansen og min datter har diabetes", "jeg hedder [name] og min datter har diabetes"),
    ("Navn: Anne-Marie Holm", "Navn: [name]"),
    ("hedder jeg Sofie", "hedder jeg [name]"),
    ("mit fornavn er Mette", "mit fornavn er [name]"),
    ("mit efternavn er Hansen", "mit efternavn er [name]"),
    ("My full name is Anna Berg", "My full name is [name]"),
    ("my surname is Berg", "my surname is [name]"),
    ("I'm Anna, this is Peter", "I'm [name], this is [name]"),
    ("my name is Anna Berg", "my name is [name]"),
    ("Hi, my name is anna and my son is 9", "Hi, my name is [name] and my son is 9"),
    ("I'm Sofie and my son has type 1", "I'm [name] and my son has type 1"),
    ("I’m Sofie Berg, mum of a 9 year old", "I’m [name], mum of a 9 year old"),
    ("I am Peter", "I am [name]"),
    ("this is Peter Jensen", "this is [name]"),
    ("Hello, this is Dr Hansen from the clinic", "Hello, this is Dr [name] from the clinic"),
]


@pytest.mark.parametrize("text, expected", NAMES)
def test_a_name_after_a_self_introduction_is_redacted(text, expected):
    assert redact(text) == expected
    assert redact(expected) == expected


@pytest.mark.parametrize(
    "text",
    [
        "jeg hedder ikke noget på nettet",
        "mit navn er ligegyldigt",
        "I'm worried about her",
        "I'm not sure",
        "I'm a mum of two",
        "I'm Danish",
        "I'm Not sure",
        "I'm OK",
        "I am Type 1",
        "this is Loop 3.2.0",
        "This is what we do",
        "this is AndroidAPS",
        "I'm so tired",
        "my name is not important",
        "jeg er Ole",  # only the cues above introduce a name
    ],
)
def test_common_words_after_a_cue_are_no_names(text):
    assert redact(text) == text


CLINICAL_KEPT = [
    "16,2 mmol",
    "BS 16,2 mmol/l kl. 22.30",
    "BS 12",
    "5.6",
    "my BG was 5.6 at 22:30",
    "0,6 E/t",
    "kan vi give 0,6 E/t i nat?",
    "should we give 2 units?",
    "min søn er 14 år",
    "my 9 year old",
    "1.12.2025",
    "den 12/03",
    "on 12/03 and 1.12.2025",
    "kl. 22.30",
    "kl 22.30-23.45",
    "fra 22.30 til 06.00",
    "HbA1c 53 mmol/mol",
    "HbA1c was 53 mmol/mol",
    "Loop 3.2.0",
    "AndroidAPS 3.2.0.4",
    "21-12-2023",
    "20.03.2024",
    "BS 4 5 6 7 8 9 10 11",
    "2023/2024",
    "ISF 2,5 og CR 1:10",
    "at 22.30 she was 16.2, at 23.45 12.1",
]


@pytest.mark.parametrize("text", CLINICAL_KEPT)
def test_clinical_values_in_both_languages_survive(text):
    assert redact(text) == text
    assert redact(f"Hej, {text}. Hvad gør vi?") == f"Hej, {text}. Hvad gør vi?"
    assert redact(f"Hi, {text}. What should we do?") == f"Hi, {text}. What should we do?"


def test_a_probe_message_in_each_language():
    danish = (
        "Hej, jeg hedder Mette Hansen. Mit cpr er 13.04.92-7121, ring på 61.72.83.91 eller 0045 61 72 83 97, "
        "mail mette snabel-a gmail punktum com. Vi bor på Gammel Strand 61. Min søn på 14 år har BS 16,2 mmol "
        "kl. 22.30, basal 0,6 E/t, HbA1c 53 mmol/mol, Loop 3.2.0."
    )
    assert redact(danish) == (
        "Hej, jeg hedder [name]. Mit cpr er [cpr], ring på [phone] eller [phone], "
        "mail [email]. Vi bor på [address]. Min søn på 14 år har BS 16,2 mmol "
        "kl. 22.30, basal 0,6 E/t, HbA1c 53 mmol/mol, Loop 3.2.0."
    )
    english = (
        "Hi, I'm Sofie and my 9 year old has BG 16.2. Call (555) 301-4167 or +1 (555) 301-4167, "
        "email sofie at gmail dot com or sofie [at] gmail [dot] com. We live at Strandboulevarden 12. "
        "Should we give 2 units on 12/03 at 22:30?"
    )
    assert redact(english) == (
        "Hi, I'm [name] and my 9 year old has BG 16.2. Call [phone] or [phone], "
        "email [email] or [email]. We live at [address]. "
        "Should we give 2 units on 12/03 at 22:30?"
    )


# --- property: personal data in any listed format never comes out raw -------------------

NOISE = st.lists(
    st.one_of(
        st.sampled_from([
            "hej", "jeg", "min", "søn", "har", "BS", "mmol/l", "i nat", "tak", "please", "call", "my", "number",
            "is", "mail", "email", "ring", "på", "cpr", "Loop", "basal", "kl.", "og", "and", "at", "dot", "?", "!",
        ]),
        st.text(st.characters(exclude_categories=["Cs", "Nd"], exclude_characters="@"), max_size=6),
    ),
    max_size=6,
).map(" ".join)
DAY_MONTH_YEAR = st.tuples(st.integers(1, 31), st.integers(1, 12), st.integers(0, 99), st.integers(0, 9999))
CPR_FORMATS = st.builds(
    lambda dmy, form: form(*dmy),
    DAY_MONTH_YEAR,
    st.sampled_from([
        lambda d, m, y, s: f"{d:02d}{m:02d}{y:02d}-{s:04d}",
        lambda d, m, y, s: f"{d:02d}{m:02d}{y:02d}{s:04d}",
        lambda d, m, y, s: f"{d:02d}{m:02d}{y:02d} {s:04d}",
        lambda d, m, y, s: f"{d:02d}{m:02d}{y:02d} – {s:04d}",
        lambda d, m, y, s: f"{d:02d}.{m:02d}.{y:02d}-{s:04d}",
        lambda d, m, y, s: f"{d:02d}.{m:02d}.19{y:02d}-{s:04d}",
    ]),
)
DK_DIGITS = st.from_regex(r"[2-9][0-9]{7}", fullmatch=True)
US_DIGITS = st.from_regex(r"[2-9][0-9]{2}[2-9][0-9]{6}", fullmatch=True)
PHONE_FORMATS = st.one_of(
    st.builds(
        lambda d, form: form(d),
        DK_DIGITS,
        st.sampled_from([
            lambda d: d,
            lambda d: f"{d[:4]} {d[4:]}",
            lambda d: " ".join(d[i:i + 2] for i in range(0, 8, 2)),
            lambda d: ".".join(d[i:i + 2] for i in range(0, 8, 2)),
            lambda d: f"{d[:4]}-{d[4:]}",
            lambda d: f"+45 {d}",
            lambda d: "+45 " + ".".join(d[i:i + 2] for i in range(0, 8, 2)),
            lambda d: f"0045 {d[:4]} {d[4:]}",
            lambda d: "0045 " + " ".join(d[i:i + 2] for i in range(0, 8, 2)),
        ]),
    ),
    st.builds(
        lambda d, form: form(d),
        US_DIGITS,
        st.sampled_from([
            lambda d: f"({d[:3]}) {d[3:6]}-{d[6:]}",
            lambda d: f"+1 ({d[:3]}) {d[3:6]}-{d[6:]}",
            lambda d: f"{d[:3]}-{d[3:6]}-{d[6:]}",
        ]),
    ),
)
LOCAL_PART = st.from_regex(r"zq[a-z]{2,8}(\.[a-z]{2,6})?", fullmatch=True)
EMAIL_FORMATS = st.builds(
    lambda local, domain, form: (form.format(local=local, domain=domain), local),
    LOCAL_PART,
    st.sampled_from(["gmail", "hotmail", "example", "mail-server"]),
    st.sampled_from([
        "{local}@{domain}.com",
        "{local} at {domain} dot com",
        "{local}(at){domain}.dk",
        "{local} (at) {domain} (dot) dk",
        "{local} [at] {domain} [dot] com",
        "{local} @ {domain}.com",
        "{local} snabel-a {domain} punktum dk",
    ]),
)


@settings(max_examples=300, deadline=None)
@given(before=NOISE, after=NOISE, number=st.one_of(CPR_FORMATS, PHONE_FORMATS), email=EMAIL_FORMATS)
def test_numbers_and_email_addresses_in_any_listed_format_never_come_out_raw(before, after, number, email):
    written, local = email
    text = f"{before} {number}, {after} {written} {before}"
    redacted = redact(text)
    # The noise has no digits: any digit left would be part of the number.
    assert not re.search(r"\d", redacted), (text, redacted)
    assert redacted.count(local) <= text.count(local) - written.count(local), (text, redacted)
    assert redact(redacted) == redacted


def test_a_long_run_of_digit_groups_is_redacted_in_one_go():
    """Hypothesis found it: "100 00100 00100 ..." was taken whole as one over-long
    international number, left as it was, and redacted a little more on every pass."""
    text = ("100 00" * 50)[:20000]
    once = redact(text)
    assert redact(once) == once
    assert "00100 00100" not in once
