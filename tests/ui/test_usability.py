"""Readable colours in both themes (WCAG AA), drawn toolbar icons, and the reflowing label grid."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QLabel

from magnus_desktop.ui.app_view_model import AppViewModel
from magnus_desktop.ui.replay_toolbar import ReplayToolbar
from magnus_desktop.ui.theme import apply_theme, chart_colors, contrast_ratio, relative_luminance
from magnus_desktop.widgets.icons import KINDS, media_icon
from magnus_desktop.widgets.pair_grid import PairGrid
from magnus_desktop.widgets.table_model import TEXT_COLORS, palette_theme, pnl_color, text_color

BACKGROUNDS = (QPalette.ColorRole.Base, QPalette.ColorRole.AlternateBase, QPalette.ColorRole.Window)


@pytest.fixture
def restore_palette(qapp: QApplication) -> Iterator[QApplication]:
    style, palette = qapp.style().name(), qapp.palette()
    yield qapp
    qapp.setStyle(style)
    qapp.setPalette(palette)


def test_contrast_ratio_matches_wcag_reference_values() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # the classic AA grey
    assert contrast_ratio("#ffffff", "#767676") == contrast_ratio("#767676", "#ffffff")
    assert relative_luminance("#808080") == pytest.approx(0.2159, abs=1e-4)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_status_text_colours_meet_aa_on_every_background_of_the_theme(restore_palette: QApplication,
                                                                     theme: str) -> None:
    apply_theme(restore_palette, theme)
    palette = restore_palette.palette()
    assert palette_theme() == theme
    for kind in ("gain", "loss", "stale", "no_data"):
        color = text_color(kind)
        assert color == QColor(TEXT_COLORS[theme][kind])
        for role in BACKGROUNDS:
            ratio = contrast_ratio(color, palette.color(role))
            assert ratio >= 4.5, f"{theme} {kind} {color.name()} on {role.name} {palette.color(role).name()}: {ratio:.2f}"
    assert pnl_color(1.0) == text_color("gain") and pnl_color(-1.0) == text_color("loss")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_chart_text_meets_aa(theme: str) -> None:
    colors = chart_colors(theme)
    assert contrast_ratio(colors["fg"], colors["bg"]) >= 4.5


def test_old_amber_failed_aa_on_light_tables() -> None:
    """The stale amber used before (#c7780a) is what this fixes: 3.4:1 on white."""
    assert contrast_ratio("#c7780a", "#ffffff") < 4.5 <= contrast_ratio(TEXT_COLORS["light"]["stale"], "#ffffff")


@pytest.mark.parametrize("kind", KINDS)
def test_media_icons_are_drawn_in_the_given_colour(qapp: QApplication, kind: str) -> None:
    image = media_icon(kind, "#ff0000").pixmap(32, 32).toImage()
    opaque = [image.pixelColor(x, y) for x in range(32) for y in range(32) if image.pixelColor(x, y).alpha() == 255]
    assert len(opaque) > 100  # a real shape, not an empty box
    assert all(c.red() == 255 and c.green() == 0 for c in opaque)
    with pytest.raises(ValueError):
        media_icon("rewind", "#ff0000")


def test_replay_toolbar_uses_icons_not_font_glyphs(qtbot, app_vm: AppViewModel) -> None:  # type: ignore[no-untyped-def]
    toolbar = ReplayToolbar(app_vm)
    qtbot.addWidget(toolbar)
    actions = (toolbar.back_action, toolbar.play_action, toolbar.forward_action)
    for action in actions:
        assert not action.icon().isNull()
        assert all(ord(ch) < 0x2190 for ch in action.text()), action.text()  # no arrows/media symbols
    toolbar._on_vm_playing_changed(True)
    assert toolbar.play_action.text() == "Pause" and toolbar.play_action.property("icon_kind") == "pause"
    toolbar._on_vm_playing_changed(False)
    assert toolbar.play_action.text() == "Play"


def test_toolbar_icons_follow_the_theme_text_colour(qtbot, app_vm: AppViewModel,  # type: ignore[no-untyped-def]
                                                    restore_palette: QApplication) -> None:
    toolbar = ReplayToolbar(app_vm)
    qtbot.addWidget(toolbar)

    def icon_lightness() -> int:
        image = toolbar.play_action.icon().pixmap(32, 32).toImage()
        return max(image.pixelColor(x, 16).lightness() for x in range(32) if image.pixelColor(x, 16).alpha() == 255)

    apply_theme(restore_palette, "dark")
    qtbot.waitUntil(lambda: icon_lightness() > 200)  # light glyph on the dark toolbar
    apply_theme(restore_palette, "light")
    qtbot.waitUntil(lambda: icon_lightness() < 60)


def pairs(n: int) -> list[tuple[QLabel, QLabel]]:
    return [(QLabel(f"Caption {i}"), QLabel("$2,001,938.05")) for i in range(n)]


def test_pair_grid_needs_only_its_minimum_columns_and_reflows(qtbot) -> None:  # type: ignore[no-untyped-def]
    grid = PairGrid(pairs(6), stacked=True, max_columns=6, min_columns=3)
    qtbot.addWidget(grid)
    assert grid.minimumSizeHint().width() < grid.sizeHint().width() / 1.7
    grid.resize(grid.sizeHint().width(), 80)
    grid.show()
    qtbot.waitUntil(lambda: grid.columns == 6)
    grid.resize(grid.minimumSizeHint().width(), 120)
    qtbot.waitUntil(lambda: grid.columns == 3)
    assert grid.grid.getItemPosition(grid.grid.indexOf(grid.pairs[3][1]))[:2] == (3, 0)  # second card row


def test_pair_grid_side_by_side_keeps_caption_left_of_value(qtbot) -> None:  # type: ignore[no-untyped-def]
    grid = PairGrid(pairs(8), stacked=False, max_columns=4, min_columns=2)
    qtbot.addWidget(grid)
    grid.resize(grid.minimumSizeHint().width(), 200)
    grid.show()
    qtbot.waitUntil(lambda: grid.columns == 2)
    caption, value = grid.pairs[5]
    assert grid.grid.getItemPosition(grid.grid.indexOf(caption))[:2] == (2, 2)
    assert grid.grid.getItemPosition(grid.grid.indexOf(value))[:2] == (2, 3)
