"""``scorecard demo``: the whole product in one command, ending with the run URL and pass rates."""

from __future__ import annotations

import sys
import tempfile
import threading
from pathlib import Path

import click

from scorecard_core import links
from scorecard_core.client import ScorecardClient

from .base import check_host


@click.command()
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Where the demo's SQLite database goes (default: a new temporary directory).",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=0, type=click.IntRange(0, 65535), help="Port to serve on (default: any free port).")
@click.option(
    "--serve/--no-serve", default=None, help="Keep serving after the demo (default: only when run in a terminal)."
)
def demo(data_dir: Path | None, host: str, port: int, serve: bool | None) -> None:
    """Run the demo: server on SQLite, seeded project, URL and API key printed."""
    from server import demo as demo_module

    check_host(host, port)
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="scorecard-demo-"))
    click.echo(f"==> starting the Scorecard server (SQLite in {data_dir})", err=True)
    server, key, project = demo_module.start(data_dir, host, port)
    click.echo("==> seeded the demo project through the REST API", err=True)
    click.echo("==> evaluating the demo system through the runner, as the GitHub Action does", err=True)
    gate_code = demo_module.run_through_runner(server, key, project, data_dir)
    client = ScorecardClient(f"{server.url}/api/v2", key)
    run, summary = demo_module.latest_run(client, project)
    client.http.close()
    click.echo("")
    click.echo(f"Server URL:   {server.url}")
    click.echo(f"API base URL: {server.url}/api/v2")
    click.echo(f"API key:      {key}")
    click.echo(f"Run URL:      {links.run_url(server.url, project.project_id, run['id'])}")
    click.echo(f"Run status:   {run['status']} ({run['numRecords']} records, {run['numScores']} scores)")
    for metric in summary["metrics"]:
        rate = "n/a" if metric["passRate"] is None else f"{metric['passRate']:.1%}"
        click.echo(
            f"  {metric['name']:<24} pass rate {rate:>6}  ({metric['passed']}/{metric['scored']} passed"
            f"{_interval(metric['passRateInterval'])})"
        )
    overall = summary["passRate"]
    verdict = "met" if gate_code == 0 else "missed"
    click.echo(
        f"Overall pass rate {overall:.1%}{_interval(summary['passRateInterval'])}; "
        f"the fail-under threshold {demo_module.DEMO_FAIL_UNDER} was {verdict}."
    )
    click.echo(f"The job summary the Action would post: {data_dir / 'job-summary.md'}")
    if serve is None:
        serve = sys.stdin.isatty() and sys.stdout.isatty()
    if not serve:
        server.stop()
        click.echo(
            f"(server stopped; serve the same data again with: "
            f"scorecard serve --database-url sqlite:///{data_dir / 'scorecard.db'})",
            err=True,
        )
        return
    click.echo("Serving until Ctrl-C.", err=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


def _interval(interval: dict | None) -> str:
    if not interval:
        return ""
    return f", 95% CI {interval['low']:.1%}-{interval['high']:.1%}"
