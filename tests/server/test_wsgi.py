"""The documented WSGI entry point serves the API under gunicorn."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.support.processes import create_api_key, free_port


def test_gunicorn_serves_the_wsgi_app(sqlite_url, tmp_path):
    key = create_api_key(sqlite_url)
    port = free_port()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [str(gunicorn), "-w", "2", "-b", f"127.0.0.1:{port}", "server.wsgi:app"],
        env={**os.environ, "SCORECARD_DATABASE_URL": sqlite_url},
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "gunicorn.log").open("wb"),
    )
    try:
        base = f"http://127.0.0.1:{port}/api/v2"
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()
            try:
                if requests.get(f"{base}/openapi.json", timeout=10).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, (tmp_path / "gunicorn.log").read_text()
            time.sleep(0.1)
        headers = {"Authorization": f"Bearer {key}"}
        created = requests.post(f"{base}/projects", json={"name": "under gunicorn"}, headers=headers)
        assert created.status_code == 201
        # Two workers share one database: what one wrote, the other reads.
        for _ in range(4):
            names = [p["name"] for p in requests.get(f"{base}/projects", headers=headers).json()["data"]]
            assert "under gunicorn" in names
    finally:
        process.terminate()
        process.wait(timeout=30)
