"""Drive a running Label Studio through label-studio-sdk as an annotator would (run with the
Python of the Label Studio venv, see tools/setup_label_studio.sh).

    python label_studio_driver.py URL TOKEN OUT_DIR EXPORT.json EDITS.json

Creates a project with OUT_DIR/config.xml, imports OUT_DIR/tasks.json (with predictions),
then for the first task submits an annotation: the task's predictions plus the regions and
choices in EDITS.json (a JSON list of Label Studio result items), and writes the project's
JSON export to EXPORT.json. Prints one JSON line: project id, task ids, annotation id.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from label_studio_sdk import LabelStudio


def main() -> int:
    url, token, out_dir, export, edits = sys.argv[1:6]
    client = LabelStudio(base_url=url, api_key=token)
    out = Path(out_dir)
    project = client.projects.create(
        title="humanoid_teleop round trip", label_config=(out / "config.xml").read_text()
    )
    # the preview videos are served from OUT_DIR (LOCAL_FILES_DOCUMENT_ROOT) to this project
    client.import_storage.local.create(
        project=project.id, path=str(out.resolve()), title="previews"
    )
    tasks = json.loads((out / "tasks.json").read_text())
    client.projects.import_tasks(id=project.id, request=tasks, return_task_ids=True)
    listed = list(client.tasks.list(project=project.id, fields="all"))
    first = client.tasks.get(id=listed[0].id)
    predicted = [
        {k: v for k, v in item.items() if k != "origin"}
        for prediction in (first.predictions or [])
        for item in (prediction["result"] if isinstance(prediction, dict) else prediction.result)
    ]
    result = predicted + json.loads(Path(edits).read_text())
    annotation = client.annotations.create(id=first.id, result=result, project=project.id)
    with Path(export).open("wb") as handle:
        for chunk in client.projects.exports.download_sync(
            id=project.id, export_type="JSON", download_all_tasks=True
        ):
            handle.write(chunk)
    print(
        json.dumps(
            {"project": project.id, "tasks": [t.id for t in listed], "annotation": annotation.id}
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
