"""Factories of the research-desk docks (earnings, sectors, options flow, calendar spreads); their
``DockSpec`` entries are in ``ui.docks``."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from magnus_desktop.ui.app_view_model import AppViewModel
from magnus_desktop.ui.research.calendars_panel import CalendarsPanel
from magnus_desktop.ui.research.desk_view_model import DeskViewModel
from magnus_desktop.ui.research.earnings_panel import EarningsPanel
from magnus_desktop.ui.research.flow_panel import FlowPanel
from magnus_desktop.ui.research.sectors_panel import SectorsPanel


def _owned(panel: QWidget, vm: DeskViewModel) -> QWidget:
    vm.setParent(panel)  # deleted with the panel, which drops its service subscriptions
    return panel


def flow_dock(app: AppViewModel) -> QWidget:
    vm = DeskViewModel(app.ctx, "flow")
    return _owned(FlowPanel(vm), vm)


def earnings_dock(app: AppViewModel) -> QWidget:
    vm = DeskViewModel(app.ctx, "earnings")
    return _owned(EarningsPanel(vm), vm)


def sectors_dock(app: AppViewModel) -> QWidget:
    vm = DeskViewModel(app.ctx, "sectors")
    return _owned(SectorsPanel(vm), vm)


def calendars_dock(app: AppViewModel) -> QWidget:
    vm = DeskViewModel(app.ctx, "calendars")
    return _owned(CalendarsPanel(vm, app.orders), vm)
