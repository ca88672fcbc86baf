"""The demo: our server on a fresh SQLite database, a seeded project, and where to find it.

Everything goes through the real REST API over HTTP, exactly as a user's tools would.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from waitress.server import create_server

from scorecard_core import apikeys, db
from scorecard_core.client import ScorecardClient

from . import create_app

CAPITALS = [
    ("France", "Paris"), ("Germany", "Berlin"), ("Italy", "Rome"), ("Spain", "Madrid"),
    ("Portugal", "Lisbon"), ("Netherlands", "Amsterdam"), ("Belgium", "Brussels"), ("Austria", "Vienna"),
    ("Poland", "Warsaw"), ("Sweden", "Stockholm"), ("Norway", "Oslo"), ("Finland", "Helsinki"),
    ("Denmark", "Copenhagen"), ("Ireland", "Dublin"), ("Greece", "Athens"), ("Hungary", "Budapest"),
    ("Czechia", "Prague"), ("Japan", "Tokyo"), ("Canada", "Ottawa"), ("Australia", "Canberra"),
    ("Brazil", "Brasília"), ("Kenya", "Nairobi"), ("Egypt", "Cairo"), ("Peru", "Lima"),
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
        "name": "Exact answer", "evalType": "heuristic", "outputType": "boolean",
        "guidelines": "The answer names exactly the expected capital.",
        "heuristic": {"type": "exact_match", "outputField": "answer", "expectedField": "answer"},
    },
    {
        "name": "Mentions the capital", "evalType": "heuristic", "outputType": "boolean",
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
        {"name": "Capitals", "description": "Capital cities", "jsonSchema": TESTSET_SCHEMA, "fieldMapping": FIELD_MAPPING},
    )
    items = [
        {"jsonData": {
            "question": f"What is the capital of {country}?", "answer": capital,
            "difficulty": "easy" if i % 3 else "hard",
        }}
        for i, (country, capital) in enumerate(CAPITALS)
    ]
    client.post(f"/testsets/{testset['id']}/testcases", {"items": items})
    metric_ids = [client.post(f"/projects/{project['id']}/metrics", m)["id"] for m in METRICS]
    system = client.post(
        f"/projects/{project['id']}/systems",
        {"name": "Capital lookup", "description": "A demo system", "config": {"model": "demo-lookup", "temperature": 0}},
    )
    return DemoProject(project["id"], testset["id"], metric_ids, system["productionVersion"]["id"])


class BackgroundServer:
    """Our app under waitress on a loopback port, in a daemon thread."""

    def __init__(self, database_url: str, host: str, port: int):
        self.app = create_app({"DATABASE_URL": database_url})
        self._server = create_server(self.app, host=host, port=port, threads=8)
        self.url = f"http://{host}:{self._server.effective_port}"
        self.app.config["PUBLIC_URL"] = self.url
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self) -> "BackgroundServer":
        self._thread.start()
        return self

    def new_api_key(self, name: str) -> str:
        with db.session_scope(self.app.extensions["scorecard.engine"]) as session:
            _row, key = apikeys.create_key(session, name)
        return key

    def stop(self) -> None:
        self._server.close()


def start(data_dir: Path, host: str, port: int) -> tuple[BackgroundServer, str, DemoProject]:
    data_dir.mkdir(parents=True, exist_ok=True)
    server = BackgroundServer(f"sqlite:///{data_dir / 'scorecard.db'}", host, port).start()
    key = server.new_api_key("demo")
    project = seed(ScorecardClient(f"{server.url}/api/v2", key))
    return server, key, project
