"""Plate normalisation, format matching and look-alike correction."""

from __future__ import annotations

import string

from hypothesis import given, strategies as st
import numpy as np
import numpy.typing as npt
import pytest

from anpr_inference.formats import (
    DIGIT_TO_LETTER,
    DIGITS,
    GENERIC_FORMATS,
    LETTER_TO_DIGIT,
    LETTERS,
    MIN_CLASS_PROBABILITY,
    REGIONS,
    TABLE_CORRECTION_PENALTY,
    FormatMatch,
    PlateFormat,
    formats_for,
    match_format,
    normalize_plate,
)

# The OCR model's alphabet (cct_xs_v1_global_plate_config.yaml).
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_"


def probs_for(text: str, overrides: dict[int, dict[str, float]]) -> npt.NDArray[np.float32]:
    """Probability rows that read `text` confidently except where `overrides` says."""
    probs = np.full((len(text), len(ALPHABET)), 0.001, dtype=np.float32)
    for i, char in enumerate(text):
        row = overrides.get(i, {char: 0.95})
        for symbol, p in row.items():
            probs[i, ALPHABET.index(symbol)] = p
    return probs


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("AB12 CDE", "AB12CDE"),
        ("ab-12-cd", "AB12CD"),
        ("a.b 1_2__", "AB12"),
        ("ＡＢ１２ＣＤＥ", "AB12CDE"),  # noqa: RUF001 - full-width input is the point
        ("①②", "12"),
        ("  ", ""),
        ("", ""),
        ("\u00c4B-12", "B12"),  # accented letters are not plate characters
        ("e\u0301", "E"),  # a combining accent is dropped, its base letter stays
        ("AB\t12\n", "AB12"),
        ("ΑΒ12", "12"),  # noqa: RUF001 - Greek capitals look Latin but are not
    ],
)
def test_normalize_plate(raw: str, expected: str) -> None:
    assert normalize_plate(raw) == expected


@pytest.mark.parametrize(
    ("text", "region", "fmt"),
    [
        ("AB12CDE", "uk", "uk_current"),
        ("A123BCD", "uk", "uk_prefix"),
        ("A12BCD", "uk", "uk_prefix"),
        ("A1BCD", "uk", "uk_prefix"),
        ("ABC123D", "uk", "uk_suffix"),
        ("ABC12D", "uk", "uk_suffix"),
        ("ABC1D", "uk", "uk_suffix"),
        ("ABC1234", "uk", "uk_dateless"),
        ("A1", "uk", "uk_dateless"),
        ("1234AB", "uk", "uk_dateless"),
        ("1A", "uk", "uk_dateless"),
        ("ABC123", "nz", "nz_current"),
        ("AB1234", "nz", "nz_legacy"),
        ("AYO9034", "br", "br_old"),
        ("BRA2E19", "br", "br_mercosur"),
        ("MH12AB1234", "in", "in_standard"),
        ("MH12A1234", "in", "in_standard"),
        ("DL3CAB1234", "in", "in_standard"),
        ("KA01ABC1234", "in", "in_standard"),
        ("M AB 1234", "eu", "eu_generic"),
        ("AB-123-CD", "eu", "eu_generic"),
        ("7ABC123", "us", "us_generic"),
        ("GR8 BEARS", "us", "us_generic"),
        ("AB", "us", "us_generic"),
    ],
)
def test_format_positive(text: str, region: str, fmt: str) -> None:
    match = match_format(text, region)
    assert match == FormatMatch(
        text=normalize_plate(text),
        format=fmt,
        region=region,
        corrections=0,
        char_confidences=(1.0,) * len(normalize_plate(text)),
    )


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("AB12CDEF", "uk"),  # too long for any UK format
        ("ABCDEFG", "uk"),  # the digits have no letter look-alikes to come from
        ("A", "uk"),
        ("ABC1234", "nz"),
        ("ABCE12", "nz"),
        ("AB123", "br"),
        ("ABC12345", "br"),
        ("ABCE9HK", "br"),  # E, H, K have no digit look-alikes
        ("MH12AB12E4", "in"),
        ("MH12AB1234X", "in"),
        ("ABC", "eu"),
        ("ABCDEFGHIJK", "eu"),
        ("A", "us"),
        ("ABCDEFGHI", "us"),
        ("", "uk"),
        ("--", "us"),
    ],
)
def test_format_negative(text: str, region: str) -> None:
    assert match_format(text, region) is None


@pytest.mark.parametrize(
    ("text", "region", "expected", "fmt"),
    [
        ("AY09034", "br", "AYO9034", "br_old"),  # digit where a letter belongs
        ("8RA1234", "br", "BRA1234", "br_old"),
        ("ABC12S4", "br", "ABC1254", "br_old"),  # letter where a digit belongs
        ("8RA2E19", "br", "BRA2E19", "br_mercosur"),
        ("BRA2EI9", "br", "BRA2E19", "br_mercosur"),
        ("BRA2E1S", "br", "BRA2E15", "br_mercosur"),
        ("AB1ZCDE", "uk", "AB12CDE", "uk_current"),
        ("A8I2CDE", "uk", "A812CDE", "uk_prefix"),  # one correction beats two (A8->AB, I->1)
        ("AB12CD8", "uk", "AB12CDB", "uk_current"),
        ("5DA123", "nz", "SDA123", "nz_current"),
        ("ABC1Z3", "nz", "ABC123", "nz_current"),
        ("MHI2AB1234", "in", "MH12AB1234", "in_standard"),
        ("MH12AB12O4", "in", "MH12AB1204", "in_standard"),
        ("MH12A81234", "in", "MH12AB1234", "in_standard"),
    ],
)
def test_lookalike_correction(text: str, region: str, expected: str, fmt: str) -> None:
    match = match_format(text, region)
    assert match is not None
    assert (match.text, match.format, match.region) == (expected, fmt, region)
    changed = [i for i, (a, b) in enumerate(zip(text, expected, strict=True)) if a != b]
    assert match.corrections == len(changed)
    for i in range(len(expected)):
        want = TABLE_CORRECTION_PENALTY if i in changed else 1.0
        assert match.char_confidences[i] == pytest.approx(want)


def test_existing_prefix_plate_is_not_corrected() -> None:
    """`A812CDE` is a valid 1983-2001 prefix plate, so it must not become `AB12CDE`."""
    match = match_format("A812CDE", "uk")
    assert match is not None
    assert (match.text, match.format, match.corrections) == ("A812CDE", "uk_prefix", 0)


def test_correction_keeps_confidences_aligned() -> None:
    confidences = [0.9, 0.8, 0.5, 0.2, 0.7, 0.6, 0.95, 0.85, 0.3]
    # "ay-0 9034": the dash and the space are dropped with their confidences.
    match = match_format("ay-0 9034", "br", char_confidences=confidences)
    assert match is not None
    assert match.text == "AYO9034"
    assert match.char_confidences == pytest.approx(
        (0.9, 0.8, 0.2 * TABLE_CORRECTION_PENALTY, 0.6, 0.95, 0.85, 0.3)
    )


@pytest.mark.parametrize(
    ("confidences", "expected", "fmt"),
    [
        # "8B12CDE" is uk_current after 8->B at 0, or uk_dateless (DDDDLLL) after B->8 at 1:
        # one correction each, so the less confident character is the one changed.
        ([0.3, 0.9, 1, 1, 1, 1, 1], "BB12CDE", "uk_current"),
        ([0.9, 0.3, 1, 1, 1, 1, 1], "8812CDE", "uk_dateless"),
    ],
)
def test_tie_broken_by_confidence(confidences: list[float], expected: str, fmt: str) -> None:
    match = match_format("8B12CDE", "uk", char_confidences=confidences)
    assert match is not None
    assert (match.text, match.format, match.corrections) == (expected, fmt, 1)


def test_tie_with_equal_confidence_follows_preference_order() -> None:
    match = match_format("8B12CDE", "uk")
    assert match is not None
    assert match.format == "uk_current"  # declared first


def test_char_probs_pick_the_most_likely_in_class_character() -> None:
    # The OCR read 0 at slot 2 but thought D quite likely: D beats the table's O.
    probs = probs_for("AY09034", {2: {"0": 0.6, "D": 0.3, "O": 0.05}})
    match = match_format("AY09034", "br", char_probs=probs, alphabet=ALPHABET)
    assert match is not None
    assert match.text == "AYD9034"
    assert match.corrections == 1
    assert match.char_confidences[2] == pytest.approx(0.3)
    # Without explicit confidences, each character's is its probability as read.
    assert match.char_confidences[0] == pytest.approx(0.95)


def test_char_probs_can_correct_beyond_the_table() -> None:
    # H has no digit look-alike, but the OCR gave 4 a fair chance.
    probs = probs_for("AB1HCDE", {3: {"H": 0.55, "4": 0.4}})
    assert match_format("AB1HCDE", "uk") is None
    match = match_format("AB1HCDE", "uk", char_probs=probs, alphabet=ALPHABET)
    assert match is not None
    assert (match.text, match.format) == ("AB14CDE", "uk_current")
    assert match.char_confidences[3] == pytest.approx(0.4)


def test_char_probs_too_small_fall_back_to_table() -> None:
    tiny = MIN_CLASS_PROBABILITY / 2
    probs = probs_for("AY09034", {2: {"0": 0.97, "D": tiny}})
    match = match_format(
        "AY09034", "br", char_confidences=[0.97] * 7, char_probs=probs, alphabet=ALPHABET
    )
    assert match is not None
    assert match.text == "AYO9034"
    assert match.char_confidences[2] == pytest.approx(0.97 * TABLE_CORRECTION_PENALTY)


def test_char_probs_rows_are_realigned_with_padding() -> None:
    text = "AY09034__"
    probs = probs_for(text, {2: {"0": 0.5, "Q": 0.45}})
    match = match_format(text, "br", char_probs=probs, alphabet=ALPHABET)
    assert match is not None
    assert match.text == "AYQ9034"
    assert len(match.char_confidences) == 7


def test_no_region_never_corrects() -> None:
    match = match_format("AY09034")
    assert match is not None
    assert (match.text, match.corrections) == ("AY09034", 0)
    assert match.format in GENERIC_FORMATS
    specific = match_format("ay o9034")
    assert specific is not None
    assert (specific.text, specific.format, specific.region) == ("AYO9034", "br_old", "br")


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ("BRA2E19", "br_mercosur"),
        ("MH12AB1234", "in_standard"),
        ("ABC123", "nz_current"),  # also uk_dateless: regions are tried in REGIONS order
        ("AB12CDE", "uk_current"),
        ("ABCDEFGH", "eu_generic"),  # catch-alls last, eu before us
        ("AB", "us_generic"),
    ],
)
def test_no_region_order(text: str, fmt: str) -> None:
    match = match_format(text)
    assert match is not None
    assert match.format == fmt


def test_no_region_no_fit() -> None:
    assert match_format("A") is None
    assert match_format("ABCDEFGHIJK") is None
    assert match_format("") is None


def test_region_names() -> None:
    with pytest.raises(ValueError, match="br, eu, in, nz, uk, us"):
        match_format("AB12CDE", "xx")
    with pytest.raises(ValueError, match="valid regions"):
        formats_for("gb")
    assert match_format("AB12CDE", " UK ") is not None
    assert {f.region for r in REGIONS for f in formats_for(r)} == set(REGIONS)


def test_bad_evidence_is_rejected() -> None:
    with pytest.raises(ValueError, match="char_confidences has 2 entries"):
        match_format("ABC", "us", char_confidences=[1.0, 1.0])
    with pytest.raises(ValueError, match="alphabet"):
        match_format("ABC", "us", char_probs=np.zeros((3, 37)))
    with pytest.raises(ValueError, match=r"shape \(3, 37\)"):
        match_format("ABC", "us", char_probs=np.zeros((2, 37)), alphabet=ALPHABET)
    with pytest.raises(ValueError, match="pattern"):
        PlateFormat("bad", "uk", "LLX")


def test_format_table() -> None:
    names = {f.name for r in REGIONS for f in formats_for(r)}
    assert names == {
        "br_mercosur",
        "br_old",
        "eu_generic",
        "in_standard",
        "nz_current",
        "nz_legacy",
        "uk_current",
        "uk_prefix",
        "uk_suffix",
        "uk_dateless",
        "us_generic",
    }
    assert {"eu_generic", "us_generic"} == GENERIC_FORMATS
    for region in REGIONS:
        patterns = [f.pattern for f in formats_for(region)]
        assert len(patterns) == len(set(patterns)), region
    assert all(len(f.pattern) <= 7 for f in formats_for("uk"))
    # The tables only swap classes.
    assert set(DIGIT_TO_LETTER) <= DIGITS
    assert set(DIGIT_TO_LETTER.values()) <= LETTERS
    assert set(LETTER_TO_DIGIT) <= LETTERS
    assert set(LETTER_TO_DIGIT.values()) <= DIGITS


plate_chars = st.sampled_from(string.ascii_letters + string.digits + " -._")
plate_texts = st.text(plate_chars, max_size=12)


@given(st.text(max_size=30))
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize_plate(text)
    assert normalize_plate(once) == once
    assert set(once) <= LETTERS | DIGITS


@given(plate_texts, st.sampled_from([None, *REGIONS]), st.data())
def test_match_properties(text: str, region: str | None, data: st.DataObject) -> None:
    confidences = data.draw(
        st.lists(st.floats(0, 1), min_size=len(text), max_size=len(text)), label="confidences"
    )
    match = match_format(text, region, char_confidences=confidences)
    if match is None:
        return
    norm = normalize_plate(text)
    assert len(match.text) == len(norm) == len(match.char_confidences)
    # The result fits (exactly) one of the patterns of its format.
    assert any(f.name == match.format and f.fits(match.text) for f in formats_for(match.region))
    if region is None:
        assert (match.text, match.corrections) == (norm, 0)
    else:
        assert match.region == region
    # Corrections only ever move a character into the other class.
    changed = [(a, b) for a, b in zip(norm, match.text, strict=True) if a != b]
    assert len(changed) == match.corrections
    for before, after in changed:
        assert (before in DIGITS and after in LETTERS) or (before in LETTERS and after in DIGITS)
    assert all(0.0 <= c <= 1.0 for c in match.char_confidences)


@given(
    st.text(st.sampled_from(string.ascii_uppercase + string.digits), min_size=2, max_size=11),
    st.sampled_from(REGIONS),
    st.data(),
)
def test_match_properties_with_probs(text: str, region: str, data: st.DataObject) -> None:
    rows = data.draw(
        st.lists(
            st.lists(st.floats(0, 1), min_size=len(ALPHABET), max_size=len(ALPHABET)),
            min_size=len(text),
            max_size=len(text),
        ),
        label="probs",
    )
    probs = np.array(rows, dtype=np.float32)
    match = match_format(text, region, char_probs=probs, alphabet=ALPHABET)
    if match is None:
        return
    assert any(f.name == match.format and f.fits(match.text) for f in formats_for(region))
    changed = [i for i, (a, b) in enumerate(zip(text, match.text, strict=True)) if a != b]
    assert len(changed) == match.corrections
    for i in changed:
        assert (text[i] in DIGITS) != (match.text[i] in DIGITS)


def test_us_reads_letter_o_as_zero() -> None:
    """US plates carry no letter O: a read O becomes 0, and only with the us region."""
    match = match_format("HLOKTY1", "us")
    assert match is not None
    assert match.text == "HL0KTY1"
    assert match.corrections == 1
    assert match_format("HLOKTY1") is not None
    assert match_format("HLOKTY1").text == "HLOKTY1"  # type: ignore[union-attr]
    assert match_format("OEL1145", "br").text == "OEL1145"  # type: ignore[union-attr]
