import pytest
from pydantic import ValidationError

from streamlit_app.settings import DashboardSettings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in ("FORMSYNC_HUB_URL", "FORMSYNC_REFRESH_S", "FORMSYNC_GRID_COLUMNS"):
        monkeypatch.delenv(name, raising=False)


def test_defaults():
    s = DashboardSettings()
    assert (s.hub_url, s.refresh_s) == ("http://127.0.0.1:8000", 0.1)


def test_environment_overrides_and_trailing_slash_is_dropped(monkeypatch):
    monkeypatch.setenv("FORMSYNC_HUB_URL", "http://10.0.0.5:9000/")
    monkeypatch.setenv("FORMSYNC_REFRESH_S", "0.5")
    s = DashboardSettings()
    assert (s.hub_url, s.refresh_s) == ("http://10.0.0.5:9000", 0.5)


def test_hub_variables_of_the_same_prefix_are_ignored(monkeypatch):
    monkeypatch.setenv("FORMSYNC_HUB_PORT", "8765")  # the hub's, not ours
    DashboardSettings()


@pytest.mark.parametrize("field, value", [
    ("hub_url", "127.0.0.1:8000"), ("hub_url", "ftp://hub"), ("hub_url", "http://"),
    ("refresh_s", 0.0), ("refresh_s", 11), ("grid_columns", 0),
])
def test_invalid_values_name_the_field(field, value):
    with pytest.raises(ValidationError, match=field):
        DashboardSettings(**{field: value})
