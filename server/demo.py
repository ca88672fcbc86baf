"""The demo: our server on a fresh SQLite database, a seeded project, and where to find it.

Everything goes through the real REST API over HTTP, exactly as a user's tools would.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scorecard_core import apikeys, db
from scorecard_core.client import ScorecardClient
from scorecard_core.errors import ScorecardError
from scorecard_core.settings import Settings

from . import create_app, scoring
from .serving import ServeOptions, create_server

CAPITALS = [
    ("France", "Paris"),
    ("Germany", "Berlin"),
    ("Italy", "Rome"),
    ("Spain", "Madrid"),
    ("Portugal", "Lisbon"),
    ("Netherlands", "Amsterdam"),
    ("Belgium", "Brussels"),
    ("Austria", "Vienna"),
    ("Poland", "Warsaw"),
    ("Sweden", "Stockholm"),
    ("Norway", "Oslo"),
    ("Finland", "Helsinki"),
    ("Denmark", "Copenhagen"),
    ("Ireland", "Dublin"),
    ("Greece", "Athens"),
    ("Hungary", "Budapest"),
    ("Czechia", "Prague"),
    ("Japan", "Tokyo"),
    ("Canada", "Ottawa"),
    ("Australia", "Canberra"),
    ("Brazil", "Brasília"),
    ("Kenya", "Nairobi"),
    ("Egypt", "Cairo"),
    ("Peru", "Lima"),
]

TESTSET_SCHEMA = {
    "type": "object",
    "properties": {
        "question": {"type": "string", "description": "What the user asks"},
        "answer": {"type": "string", "description": "The capital city"},
        "difficulty": {"type": "string", "enum": ["easy", "hard"]},
    },
    "required": ["question", "answer"],
}
FIELD_MAPPING = {"inputs": ["question"], "expected": ["answer"], "metadata": ["difficulty"]}

METRICS = [
    {
        "name": "Exact answer",
        "evalType": "heuristic",
        "outputType": "boolean",
        "guidelines": "The answer names exactly the expected capital.",
        "heuristic": {"type": "exact_match", "outputField": "answer", "expectedField": "answer"},
    },
    {
        "name": "Mentions the capital",
        "evalType": "heuristic",
        "outputType": "boolean",
        "guidelines": "The answer mentions the expected capital somewhere.",
        "heuristic": {"type": "contains", "outputField": "answer", "expectedField": "answer"},
    },
]


@dataclass
class DemoProject:
    project_id: str
    testset_id: str
    metric_ids: list[str]
    system_version_id: str


def seed(client: ScorecardClient) -> DemoProject:
    project = client.post("/projects", {"name": "Capitals demo", "description": "Seeded by `scorecard demo`"})
    testset = client.post(
        f"/projects/{project['id']}/testsets",
        {
            "name": "Capitals",
            "description": "Capital cities",
            "jsonSchema": TESTSET_SCHEMA,
            "fieldMapping": FIELD_MAPPING,
        },
    )
    items = [
        {
            "jsonData": {
                "question": f"What is the capital of {country}?",
                "answer": capital,
                "difficulty": "easy" if i % 3 else "hard",
            }
        }
        for i, (country, capital) in enumerate(CAPITALS)
    ]
    client.post(f"/testsets/{testset['id']}/testcases", {"items": items})
    metric_ids = [client.post(f"/projects/{project['id']}/metrics", m)["id"] for m in METRICS]
    system = client.post(
        f"/projects/{project['id']}/systems",
        {
            "name": "Capital lookup",
            "description": "A demo system",
            "config": {"model": "demo-lookup", "temperature": 0},
        },
    )
    return DemoProject(project["id"], testset["id"], metric_ids, system["productionVersion"]["id"])


class BackgroundServer:
    """Our app under waitress on a loopback port, in a daemon thread, guarded as `scorecard serve` is."""

    def __init__(self, database_url: str, host: str, port: int):
        settings = Settings.load({"database_url": database_url})
        options = ServeOptions(
            host, port, settings.serve_threads, settings.serve_connection_limit, settings.serve_channel_timeout
        )
        # Listening first tells the port, so the app is built knowing where its links point.
        self._server = create_server(self._serve, options, settings.max_body_bytes)
        self.url = f"http://{host}:{self._server.effective_port}"
        self.app = create_app(settings.model_copy(update={"public_url": self.url}))
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def _serve(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.app(environ, start_response)

    def start(self) -> BackgroundServer:
        self._thread.start()
        return self

    def new_api_key(self, name: str) -> str:
        with db.session_scope(self.app.extensions["scorecard.engine"]) as session:
            _row, key = apikeys.create_key(session, name)
        return key

    def stop(self) -> None:
        """Let requests in progress finish, then close the sockets (the other order makes a
        finishing request write to a closed socket)."""
        scoring.stop(self.app)
        self._server.task_dispatcher.shutdown(timeout=5)
        self._server.close()


EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
DEMO_SYSTEM = "capitals_bot.system:run_system"
DEMO_FAIL_UNDER = "0.75"


def run_through_runner(server: BackgroundServer, key: str, project: DemoProject, data_dir: Path) -> int:
    """Evaluate the demo system exactly as the GitHub Action does: ``python -m runner`` with the
    Action's inputs as environment variables. Its progress streams to this terminal."""
    if not (EXAMPLES_DIR / "capitals_bot").is_dir():
        raise ScorecardError(
            f"the demo system is missing from {EXAMPLES_DIR}; run the demo from a clone of the repository"
        )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "SCORECARD_"))},
        "SCORECARD_API_URL": f"{server.url}/api/v2",
        "SCORECARD_API_KEY": key,
        "SCORECARD_PROJECT_ID": project.project_id,
        "SCORECARD_TESTSET_ID": project.testset_id,
        "SCORECARD_METRIC_IDS": ",".join(project.metric_ids),
        "SCORECARD_SYSTEM_VERSION_ID": project.system_version_id,
        "SCORECARD_SYSTEM": DEMO_SYSTEM,
        "SCORECARD_PYTHON": sys.executable,
        "SCORECARD_WORKING_DIRECTORY": str(EXAMPLES_DIR),
        "SCORECARD_FAIL_UNDER": DEMO_FAIL_UNDER,
        "SCORECARD_CONCURRENCY": "8",
        # Where the Action's job summary and step outputs would go on GitHub.
        "GITHUB_STEP_SUMMARY": str(data_dir / "job-summary.md"),
        "GITHUB_OUTPUT": str(data_dir / "outputs.txt"),
    }
    return subprocess.run([sys.executable, "-m", "runner"], env=env, check=False).returncode


def latest_run(client: ScorecardClient, project: DemoProject) -> tuple[dict, dict]:
    run = client.get(f"/projects/{project.project_id}/runs", limit=1)["data"][0]
    return run, client.get(f"/runs/{run['id']}/summary")


def start(data_dir: Path, host: str, port: int) -> tuple[BackgroundServer, str, DemoProject]:
    data_dir.mkdir(parents=True, exist_ok=True)
    server = BackgroundServer(f"sqlite:///{data_dir / 'scorecard.db'}", host, port).start()
    key = server.new_api_key("demo")
    project = seed(ScorecardClient(f"{server.url}/api/v2", key))
    return server, key, project
