"""The research desk docks: chart, report, earnings, sectors, options flow and calendar spreads."""
