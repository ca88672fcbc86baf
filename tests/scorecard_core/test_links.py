from scorecard_core.links import HOSTED_API_URL, HOSTED_APP_URL, app_url_of, run_url


def test_hosted_api_runs_are_shown_on_scorecards_app():
    assert app_url_of(HOSTED_API_URL) == HOSTED_APP_URL
    assert app_url_of("https://api2.scorecard.io/api/v2/") == HOSTED_APP_URL


def test_our_server_shows_runs_at_its_root():
    assert app_url_of("http://127.0.0.1:8000/api/v2") == "http://127.0.0.1:8000"
    assert app_url_of("https://evals.example.com/api/v2/") == "https://evals.example.com"


def test_run_links_have_scorecards_shape():
    assert run_url("https://app.scorecard.io/", 12, "34") == "https://app.scorecard.io/projects/12/runs/34"
