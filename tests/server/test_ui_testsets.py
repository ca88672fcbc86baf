"""The testset pages over real HTTP: the list with each testset's Kickoff Run, a testset's schema,
field mapping and testcases with their validation errors, adding, editing and deleting a testcase
as the API validates it, importing CSV and JSONL files (a bad row reported by its line, the rest
imported, a malformed file refusing everything), and exports that import back unchanged."""
# ruff: noqa: F811  (tests take the imported fixtures as parameters of the same names)

from __future__ import annotations

from dataclasses import dataclass

import pytest
import requests

from tests.server.test_ui import browser, csrf_token, data_dir, text_of  # noqa: F401

SCHEMA = {
    "type": "object",
    "properties": {
        "question": {"type": "string"},
        "answer": {"type": "string"},
        "difficulty": {"type": "integer", "minimum": 1},
        "strict": {"type": "boolean"},
    },
    "required": ["question", "answer"],
}
HOSTILE = "<script>alert(1)</script>"


@dataclass
class SeededTestset:
    project_id: str
    id: str
    testcases: list[dict]

    def path(self, rest: str = "") -> str:
        return f"/projects/{self.project_id}/testsets/{self.id}{rest}"


@pytest.fixture
def testset(client) -> SeededTestset:
    project = client.post("/projects", {"name": "Testsets"})
    created = client.post(
        f"/projects/{project['id']}/testsets",
        {
            "name": f"capitals {HOSTILE}",
            "description": "Questions about capitals",
            "jsonSchema": SCHEMA,
            "fieldMapping": {"inputs": ["question"], "expected": ["answer"]},
        },
    )
    items = [
        {"jsonData": {"question": "Capital of France?", "answer": "Paris", "difficulty": 1}},
        {"jsonData": {"question": f"{HOSTILE} capital of Peru?", "difficulty": 0}},  # stored with errors
    ]
    testcases = client.post(f"/testsets/{created['id']}/testcases", {"items": items})["items"]
    return SeededTestset(project["id"], created["id"], testcases)


def page_of(browser: requests.Session, server, path: str) -> str:
    response = browser.get(f"{server.url}{path}")
    assert response.status_code == 200, response.text
    return response.text


def post(browser: requests.Session, server, path: str, page: str, **fields) -> requests.Response:
    return browser.post(f"{server.url}{path}", data={"csrf_token": csrf_token(page), **fields}, allow_redirects=True)


def upload(browser, server, testset: SeededTestset, name: str, content: bytes, form: str = "") -> requests.Response:
    page = page_of(browser, server, testset.path())
    return browser.post(
        f"{server.url}{testset.path('/import')}",
        data={"csrf_token": csrf_token(page), "format": form},
        files={"file": (name, content)},
    )


def stored(client, testset: SeededTestset) -> list[dict]:
    return client.get(f"/testsets/{testset.id}/testcases", limit=100)["data"]


def test_the_list_links_each_testset_with_its_count_and_kickoff(server, browser, testset):
    page = page_of(browser, server, f"/projects/{testset.project_id}/testsets")
    assert testset.path() in page
    assert f"/projects/{testset.project_id}/kickoff?testset={testset.id}" in page
    assert "capitals &lt;script&gt;" in page and "<script>alert" not in page
    assert "Testset Description Testcases Runs" in text_of(page)
    assert f"capitals {HOSTILE} #{testset.id} Questions about capitals 2 0" in text_of(page)


def test_the_detail_shows_schema_mapping_and_validation_errors(server, browser, testset):
    page = page_of(browser, server, testset.path())
    text = text_of(page)
    assert "inputs question string expected answer string metadata difficulty integer , strict boolean" in text
    assert '"required": [ "question", "answer" ]' in text  # the schema, as code
    assert "2 testcases, 1 with validation errors" in text
    assert "/answer 'answer' is a required property" not in text  # pointers name the place, not the field
    assert "/ 'answer' is a required property" in text
    assert "/difficulty 0 is less than the minimum of 1" in text
    assert "<script>alert" not in page
    assert f"/projects/{testset.project_id}/kickoff?testset={testset.id}" in page

    only_invalid = page_of(browser, server, testset.path("?invalid=1"))
    assert testset.path(f"/testcases/{testset.testcases[1]['id']}") in only_invalid
    assert testset.path(f"/testcases/{testset.testcases[0]['id']}") not in only_invalid


def test_add_edit_and_delete_a_testcase(server, browser, client, testset):
    page = page_of(browser, server, testset.path())
    added = post(browser, server, testset.path("/testcases"), page, json_data='{"question": "Q3", "answer": "A3"}')
    assert added.status_code == 200 and added.url.endswith(testset.path())
    new = stored(client, testset)[-1]
    assert new["jsonData"] == {"question": "Q3", "answer": "A3"} and "validationErrors" not in new
    assert f"Testcase #{new['id']} added." in text_of(added.text)

    # Invalid against the schema: stored with its errors, exactly as the API does, and opened to fix.
    edit_path = testset.path(f"/testcases/{new['id']}")
    edit = page_of(browser, server, edit_path)
    assert '"question": "Q3"' in text_of(edit)
    saved = post(browser, server, edit_path, edit, json_data='{"question": "Q3", "answer": 7}')
    assert saved.url.endswith(edit_path)
    assert "does not match the schema (1 validation error)" in text_of(saved.text)
    assert "/answer 7 is not of type 'string'" in text_of(saved.text)
    api_view = client.get(f"/testcases/{new['id']}")
    assert api_view["validationErrors"] == [{"path": "/answer", "message": "7 is not of type 'string'"}]

    # Not JSON: refused on the page, the typed text kept, nothing stored.
    refused = post(browser, server, edit_path, saved.text, json_data='{"question": "Q3",')
    assert refused.status_code == 400
    assert "`jsonData` is not valid JSON (" in text_of(refused.text)
    assert '{"question": "Q3",' in text_of(refused.text)
    assert client.get(f"/testcases/{new['id']}")["jsonData"] == {"question": "Q3", "answer": 7}
    not_object = post(browser, server, edit_path, saved.text, json_data="[1]")
    assert not_object.status_code == 400 and "`jsonData` must be a JSON object" in text_of(not_object.text)

    fixed = post(browser, server, edit_path, saved.text, json_data='{"question": "Q3", "answer": "A3!"}')
    assert fixed.url.endswith(testset.path()) and f"Testcase #{new['id']} saved." in text_of(fixed.text)
    assert "validationErrors" not in client.get(f"/testcases/{new['id']}")

    deleted = post(browser, server, f"{edit_path}/delete", fixed.text)
    assert f"Testcase #{new['id']} deleted." in text_of(deleted.text)
    assert [t["id"] for t in stored(client, testset)] == [t["id"] for t in testset.testcases]


def test_forms_need_the_csrf_token(server, browser, client, testset):
    response = browser.post(f"{server.url}{testset.path('/testcases')}", data={"json_data": '{"question": "x"}'})
    assert response.status_code == 403
    first = testset.testcases[0]["id"]
    deleted = browser.post(f"{server.url}{testset.path(f'/testcases/{first}/delete')}")
    assert deleted.status_code == 403
    assert len(stored(client, testset)) == 2


def test_a_testcase_of_another_testset_is_not_found(server, browser, client, testset):
    other = client.post(
        f"/projects/{testset.project_id}/testsets",
        {"name": "other", "jsonSchema": SCHEMA, "fieldMapping": {"inputs": ["question"]}},
    )
    response = browser.get(
        f"{server.url}/projects/{testset.project_id}/testsets/{other['id']}/testcases/{testset.testcases[0]['id']}"
    )
    assert response.status_code == 404
    assert browser.get(f"{server.url}/projects/{testset.project_id}/testsets/999999").status_code == 404


def test_a_csv_import_reports_the_bad_row_by_line_and_imports_the_rest(server, browser, client, testset):
    content = (
        b"question,answer,difficulty,strict\n"
        b"Capital of Spain?,Madrid,2,true\n"
        b"Capital of Italy?,Rome,hard,false\n"
        b"Capital of Chile?,Santiago,3,FALSE\n"
    )
    response = upload(browser, server, testset, "capitals.csv", content)
    assert response.status_code == 200
    text = text_of(response.text)
    assert "capitals.csv: imported 2 testcases; 1 row not imported (below)." in text
    assert 'Line 3 : column difficulty: "hard" is not an integer, as the schema requires' in text
    new = [t["jsonData"] for t in stored(client, testset)[2:]]
    assert new == [
        {"question": "Capital of Spain?", "answer": "Madrid", "difficulty": 2, "strict": True},
        {"question": "Capital of Chile?", "answer": "Santiago", "difficulty": 3, "strict": False},
    ]


def test_a_jsonl_import_reports_schema_misfits(server, browser, client, testset):
    content = b'{"question": "A?", "answer": "a"}\n{"question": "B?"}\nnot json\n'
    text = text_of(upload(browser, server, testset, "more.jsonl", content).text)
    assert "more.jsonl: imported 1 testcase; 2 rows not imported (below)." in text
    assert "Line 2 : does not match the schema (the row: 'answer' is a required property)" in text
    assert "Line 3 : is not valid JSON (" in text
    assert len(stored(client, testset)) == 3


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("photo.csv", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "`file` is not UTF-8 text"),
        ("people.csv", b"name,age\nAda,36\n", "(name, age) names none of the schema's fields"),
        ("cases.jsonl", b"question,answer\nA?,a\n", "`file` is not JSONL: no line is JSON"),
        ("big.csv", b"question,answer\n" + b"x,y\n" * (5 * 1024 * 1024 // 4 + 1), "files up to 5 MB can be imported"),
    ],
)
def test_a_malformed_file_imports_nothing(server, browser, client, testset, name, content, says):
    response = upload(browser, server, testset, name, content)
    assert response.status_code == 400
    assert says in text_of(response.text)
    assert "Nothing was imported." in text_of(response.text)
    assert len(stored(client, testset)) == 2


def test_an_import_without_a_file_says_so(server, browser, testset):
    page = page_of(browser, server, testset.path())
    response = browser.post(f"{server.url}{testset.path('/import')}", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 400 and "`file` is missing" in text_of(response.text)


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_an_export_imports_back_unchanged(server, browser, client, testset, kind):
    tricky = {"question": '=1+1 , "quoted"\nnext line', "answer": "-minus", "difficulty": 2, "strict": False}
    client.post(f"/testsets/{testset.id}/testcases", {"items": [{"jsonData": tricky}]})
    exported = browser.get(f"{server.url}{testset.path(f'/testcases.{kind}')}")
    assert exported.status_code == 200
    assert exported.headers["Content-Disposition"] == f'attachment; filename="testset-{testset.id}.{kind}"'
    if kind == "csv":
        assert exported.text.startswith("question,answer,difficulty,strict\r\n")  # the mapping's order
        assert "\"'=1+1" in exported.text and ",'-minus," in exported.text  # no cell a spreadsheet would run

    before = [t["jsonData"] for t in stored(client, testset)]
    response = upload(browser, server, testset, f"export.{kind}", exported.content)
    text = text_of(response.text)
    # The testcase stored with validation errors is refused again, by its line; the others come back.
    assert "imported 2 testcases; 1 row not imported" in text
    assert f"Line {3 if kind == 'csv' else 2} :" in text  # the CSV's header is line 1
    after = [t["jsonData"] for t in stored(client, testset)]
    assert after[len(before) :] == [before[0], tricky]
