"""Run settings: defaults, TOML loading, clear rejection of bad values."""

import datetime as dt

import pytest

from devplan import Config, load_config


def test_documented_defaults():
    cfg = Config()
    assert (cfg.scale_min, cfg.scale_max) == (1.0, 5.0)
    assert cfg.plan.strength_focus == 0.7
    assert cfg.plan.horizon_months == 12
    assert cfg.scoring.peer_min_raters == 3
    assert cfg.scoring.direct_report_min_raters == 3
    # one third of the five scale points of a 1-5 scale: 5 / 3
    assert cfg.blind_spot_threshold == pytest.approx(5 / 3)
    # a 1-7 scale has seven points: 7 / 3
    assert Config(scale_max=7).blind_spot_threshold == pytest.approx(7 / 3)


def test_toml_round_trip(tmp_path):
    path = tmp_path / "devplan.toml"
    path.write_text(
        "scale_max = 7\nbudget = 2500\n"
        "[plan]\nstart_date = 2027-01-01\nstrength_focus = 0.6\n"
        "[scoring]\npeer_min_raters = 4\n"
    )
    cfg = Config.from_toml(path)
    assert cfg.scale_max == 7
    assert cfg.budget == 2500
    assert cfg.plan.start_date == dt.date(2027, 1, 1)
    assert cfg.plan.strength_focus == 0.6
    assert cfg.scoring.peer_min_raters == 4
    assert load_config(bundle=tmp_path) == cfg
    assert load_config(path) == cfg
    assert load_config(bundle=tmp_path / "elsewhere") == Config()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("colour = 'red'\n", "colour: unknown key"),
        ("[plan]\nstrength_focus = 1.5\n", "plan.strength_focus: got 1.5"),
        ("[plan]\nhorizon = 6\n", "plan.horizon: unknown key"),
        ("scale_min = 5\nscale_max = 1\n", "expected scale_min < scale_max"),
        ("budget = -1\n", "budget: got -1"),
        ("[scoring]\npeer_min_raters = 0\n", "scoring.peer_min_raters: got 0"),
        ("scale_max = \n", "cannot read settings"),
    ],
)
def test_bad_settings_are_rejected_with_the_key_and_value(tmp_path, text, words):
    path = tmp_path / "devplan.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match="devplan.toml") as info:
        Config.from_toml(path)
    assert words in str(info.value)


def test_config_is_immutable():
    cfg = Config()
    with pytest.raises(ValueError, match="frozen"):
        cfg.budget = 10  # type: ignore[misc]
