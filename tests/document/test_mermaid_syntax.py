"""The ERD text parses with Mermaid itself, hostile names included.

Runs only when DBSCHEMA_MERMAID_DIR names a folder where `npm install mermaid@11`
was run (Material for MkDocs loads mermaid@11), and node is on the PATH.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from document_model import HOSTILE, by_key, column, fk, table

from mkdocs_dbschema.document import erd
from mkdocs_dbschema.document.erd import label

MERMAID_DIR = os.environ.get("DBSCHEMA_MERMAID_DIR")
pytestmark = pytest.mark.skipif(
    not MERMAID_DIR or not shutil.which("node"), reason="set DBSCHEMA_MERMAID_DIR to a folder with mermaid@11"
)

DUMP = """
import { readFileSync } from 'node:fs';
import mermaid from 'mermaid';
const text = readFileSync(process.argv[2], 'utf8');
await mermaid.parse(text);
const diagram = await mermaid.mermaidAPI.getDiagramFromText(text);
const entities = {};
for (const [id, e] of diagram.db.getEntities()) {
  entities[id] = { alias: e.alias, attributes: e.attributes.map((a) => [a.type, a.name, (a.keys || []).join(',')]) };
}
const ids = Object.fromEntries([...diagram.db.getEntities()].map(([id, e]) => [e.id, id]));
const relationships = diagram.db.getRelationships().map(
  (r) => [ids[r.entityA], r.relSpec.cardB, r.relSpec.relType, r.relSpec.cardA, ids[r.entityB], r.roleA]);
console.log(JSON.stringify({ entities, relationships, direction: diagram.db.getDirection() }));
"""


def parse(text: str, tmp_path: Path) -> dict:  # type: ignore[type-arg]
    assert MERMAID_DIR
    script = Path(MERMAID_DIR) / "dbschema-dump.mjs"
    script.write_text(DUMP)
    source = tmp_path / "diagram.mmd"
    source.write_text(text)
    result = subprocess.run(
        ["node", str(script), str(source)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_mermaid_reads_hostile_names_as_names(tmp_path: Path) -> None:
    hostile = table(
        HOSTILE,
        column("id", pk=True),
        column(HOSTILE, HOSTILE, nullable=False),
        column("pk", "uk"),
        column("to", "timestamp with time zone"),
        column("end", "numeric(12,2)"),
        fks=[fk([HOSTILE], "tenants")],
        unique=[["pk"]],
    )
    summaries = by_key(table("tenants"), table("one"), table("reservación"), hostile)
    parsed = parse(erd(sorted(summaries), summaries, "all"), tmp_path)
    assert parsed["direction"] == "TB"
    aliases = sorted(e["alias"] for e in parsed["entities"].values())
    assert aliases == sorted(["tenants", "one", "reservación", label(HOSTILE)])
    (entity,) = (e for e in parsed["entities"].values() if e["alias"] == label(HOSTILE))
    assert [a[2] for a in entity["attributes"]] == ["PK", "FK", "UK", "", ""]
    assert entity["attributes"][3][:2] == ["timestamp_with_time_zone", "to"]
    assert parsed["relationships"] == [
        [
            "t_public_tenants",
            "ONLY_ONE",
            "NON_IDENTIFYING",
            "ZERO_OR_MORE",
            entity_id(parsed, HOSTILE),
            label(HOSTILE),
        ]
    ]


def entity_id(parsed: dict, name: str) -> str:  # type: ignore[type-arg]
    return next(i for i, e in parsed["entities"].items() if e["alias"] == label(name))
