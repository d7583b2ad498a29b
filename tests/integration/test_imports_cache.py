"""Storing a file enlarges SQLite's page cache of its connection for the inserts and gives the
previous size back afterwards, also when the import fails (nothing stored)."""

from __future__ import annotations

from pathlib import Path

import pytest

from magnus_desktop.services.imports import ImportFormatError, import_file
from magnus_desktop.services.imports import service as imports_service
from magnus_desktop.services.storage import Database

FLEX = Path(__file__).resolve().parents[1] / "data" / "ibkr_flex_TestForCoding_20181109.xml"


def _cache_sizes(db: Database) -> set[int]:
    """``PRAGMA cache_size`` of every pooled connection (the pool hands out the one just returned)."""
    with db.session() as session:
        return {int(session.connection().exec_driver_sql("PRAGMA cache_size").scalar())}


def test_the_page_cache_is_large_during_the_inserts_and_restored_after(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    db = Database.open(f"sqlite:///{tmp_path / 'h.sqlite3'}")
    try:
        default = _cache_sizes(db)
        seen: list[int] = []
        real = imports_service._sqlite_insert  # SQLite's insert path

        def spy(connection, *args, **kwargs):  # type: ignore[no-untyped-def]
            seen.append(int(connection.exec_driver_sql("PRAGMA cache_size").scalar()))
            return real(connection, *args, **kwargs)

        monkeypatch.setattr(imports_service, "_sqlite_insert", spy)
        report = import_file(db, FLEX)
        assert report.rows_imported > 0
        assert seen and set(seen) == {-imports_service.IMPORT_CACHE_KIB} and default != {seen[0]}
        assert _cache_sizes(db) == default

        def broken(*_args, **_kwargs):  # type: ignore[no-untyped-def]
            raise ImportFormatError(FLEX, 3, "refused while storing")

        monkeypatch.setattr(imports_service, "_sqlite_insert", broken)
        with pytest.raises(ImportFormatError):
            import_file(db, FLEX, account="OTHER")
        assert _cache_sizes(db) == default
    finally:
        db.close()
