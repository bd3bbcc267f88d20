from django.core.management import call_command

from sync import serializers as shapes
from tests.conftest import item


def test_it_generates_a_valid_schema_without_warnings(db, tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file",
                 str(tmp_path / "schema.yml"))


def test_it_documents_the_task_as_the_api_shows_it(alice_api, colis_data, redis_clean):
    answer = alice_api.post("/api/v1/sync/", {"items": [item(**colis_data)]},
                            format="json").json()["items"][0]
    assert set(answer["task"]) == set(shapes.TaskSerializer().fields)
    assert set(answer) == set(shapes.ItemResultSerializer().fields) - {"lot"}
