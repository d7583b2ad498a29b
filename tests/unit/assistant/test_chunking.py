from __future__ import annotations

from pathlib import Path

import pytest

from magnus_desktop.services.assistant.chunking import (
    MAX_CHARS,
    UnreadableNoteError,
    chunk_markdown,
    read_note,
    slugify,
    text_hash,
)


def test_sections_become_chunks_with_stable_sources() -> None:
    text = "# Greeks\nIntro line.\n\n## Vega: units\nPer vol point.\n\n## Theta\nPer day.\n"
    chunks = chunk_markdown(text, "concepts/greeks.md", "greeks")
    assert [c.source for c in chunks] == [
        "concepts/greeks.md", "concepts/greeks.md#vega-units", "concepts/greeks.md#theta"]
    assert chunks[1].title == "Vega: units — Greeks"
    assert chunks[1].text == "Per vol point."
    assert chunks[1].document.splitlines()[0] == chunks[1].title


def test_repeated_headings_get_unique_sources() -> None:
    chunks = chunk_markdown("## Note\na\n\n## Note\nb\n", "notes/x.md", "x")
    assert len({c.source for c in chunks}) == 2


def test_long_section_is_split_at_paragraphs() -> None:
    para = "Sentence about puts. " * 30  # ~630 chars
    body = "\n\n".join([para] * 5)
    chunks = chunk_markdown(f"## Long\n{body}\n", "notes/long.md", "long")
    assert len(chunks) >= 3
    assert all(len(c.text) <= MAX_CHARS for c in chunks)
    assert chunks[0].source == "notes/long.md#long" and chunks[1].source == "notes/long.md#long-2"
    assert " ".join(" ".join(c.text for c in chunks).split()) == " ".join(body.split())


def test_empty_and_heading_only_files_give_no_chunks() -> None:
    assert chunk_markdown("", "notes/a.md", "a") == []
    assert chunk_markdown("# Title\n\n## Empty\n\n", "notes/a.md", "a") == []


def test_slug_and_hash() -> None:
    assert slugify("IV rank vs. IV percentile!") == "iv-rank-vs-iv-percentile"
    assert slugify("???") == "section"
    assert text_hash("a  b\n c") == text_hash("a b c") != text_hash("a b d")


@pytest.mark.parametrize(("raw", "reason"), [
    (b"abc\x00def", "binary"),
    (b"caf\xe9 au lait", "UTF-8"),
])
def test_unreadable_notes_say_why(tmp_path: Path, raw: bytes, reason: str) -> None:
    path = tmp_path / "n.md"
    path.write_bytes(raw)
    with pytest.raises(UnreadableNoteError, match=reason):
        read_note(path)


def test_utf16_and_bom_notes_are_read(tmp_path: Path) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.md"
    a.write_bytes("Short puts — été".encode("utf-16"))
    b.write_bytes("\ufeffBOM note".encode())
    assert read_note(a) == "Short puts — été"
    assert read_note(b) == "BOM note"


def test_notes_folder_setting(tmp_path: Path) -> None:
    from pydantic import ValidationError

    from magnus_desktop.services.settings import Settings

    assert Settings().assistant.notes_folder is None
    assert Settings.model_validate({"assistant": {"notes_folder": "  "}}).assistant.notes_folder is None
    gone = tmp_path / "not-yet"
    assert Settings.model_validate({"assistant": {"notes_folder": str(gone)}}).assistant.notes_folder == gone
    with pytest.raises(ValidationError, match="full folder path"):
        Settings.model_validate({"assistant": {"notes_folder": "relative/notes"}})
