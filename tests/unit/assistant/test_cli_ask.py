"""``magnus-desktop ask``: the issue's example questions on the 2018 replay, JSON shape, bad input."""

from __future__ import annotations

import json
from datetime import date

import pytest

from magnus_desktop.cli import main
from magnus_desktop.models.domain import OptionContract
from magnus_desktop.services.assistant.numbers import contains_value
from magnus_desktop.services.market.recorded import ReplayMarketData


@pytest.fixture(scope="module")
def market() -> ReplayMarketData:
    return ReplayMarketData.from_resources()


def ask_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    assert main(["ask", *argv, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_has_the_documented_fields_and_the_recorded_close(capsys: pytest.CaptureFixture[str],
                                                              market: ReplayMarketData) -> None:
    out = ask_json(capsys, "What was SPX on 2018-02-05?")
    assert set(out) == {"answer", "tool_calls", "citations", "model", "latency_ms"}
    assert isinstance(out["model"], str) and isinstance(out["latency_ms"], float) and out["latency_ms"] > 0
    call = out["tool_calls"][0]  # type: ignore[index]
    assert set(call) == {"name", "arguments", "result"} and call["name"] == "get_underlying_price"
    assert contains_value(str(out["answer"]), round(market.underlying_price("SPX", date(2018, 2, 5)), 2))


def test_the_option_examples_of_the_issue(capsys: pytest.CaptureFixture[str], market: ReplayMarketData) -> None:
    q = market.option_quote(OptionContract("SPXW", date(2018, 1, 31), 2700.0, "P"), date(2018, 1, 10))
    out = ask_json(capsys, "On 2018-01-10, what were the bid and ask of the SPX 2700 put expiring 2018-01-31?")
    assert contains_value(str(out["answer"]), q.bid) and contains_value(str(out["answer"]), q.ask)
    chain = market.chain(date(2018, 2, 6))
    puts = chain[(chain["right"] == "P") & (chain["expiry"].dt.date == date(2018, 2, 28))]
    best = puts.loc[puts["open_interest"].idxmax()]
    out = ask_json(capsys, "Which SPX put expiring 2018-02-28 had the largest open interest on 2018-02-06?")
    assert contains_value(str(out["answer"]), float(best["strike"]))
    assert contains_value(str(out["answer"]), float(best["open_interest"]))


def test_text_output_shows_the_tool_result_and_the_disclaimer(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "What is my net delta?", "--replay-date", "2018-02-06"]) == 0
    text = capsys.readouterr().out
    assert "[tool get_greeks" in text and "net_delta" in text and "not investment advice" in text


def test_a_date_outside_the_data_is_no_data_not_a_guess(capsys: pytest.CaptureFixture[str]) -> None:
    out = ask_json(capsys, "What was SPX on 2019-03-01?")
    assert str(out["answer"]).startswith("No data for SPX on 2019-03-01")
    out = ask_json(capsys, "What was ZZZQ on 2018-02-05?")
    assert str(out["answer"]).startswith("No data for ZZZQ")


@pytest.mark.parametrize(("argv", "message"), [
    (["What is my net delta?", "--account", "ib-live"], "unknown account"),
    (["What is my net delta?", "--replay-date", "2018-02-03"], "not a replay day"),
    (["   "], "empty"),
])
def test_bad_input_exits_2_with_one_line(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    assert main(["ask", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_a_bad_format_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["ask", "x", "--format", "xml"])
    assert exc.value.code == 2


def test_the_model_of_settings_is_used_and_a_truncated_one_is_named(capsys: pytest.CaptureFixture[str],
                                                                    isolated_home, tmp_path) -> None:  # noqa: ANN001
    """`ask` uses Settings → Assistant's model file (as the dock does); a truncated file still gives the
    tools' answer, with a warning that says why there is no model."""
    from magnus_desktop.services.assistant.engine import bundled_model_path
    from magnus_desktop.services.paths import app_paths
    from magnus_desktop.services.settings import Settings, SettingsStore

    bundled = bundled_model_path()
    assert bundled is not None
    truncated = tmp_path / "half.gguf"
    truncated.write_bytes(bundled.read_bytes()[: 2_000_000])
    settings = Settings()
    settings.assistant.model_path = str(truncated)
    SettingsStore(app_paths().settings_file).save(settings)
    assert main(["ask", "What does vega measure?", "--format", "json"]) == 0
    captured = capsys.readouterr()
    out, err = json.loads(captured.out), captured.err
    assert out["model"] == "none"
    assert "half.gguf" in err and "truncated" in err
    assert "vega" in str(out["answer"]).lower() and out["citations"]
