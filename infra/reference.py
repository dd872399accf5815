"""Generate the reference tables in docs/reference.md from the code's own descriptions.

The config keys come from ``IntegrationConfig``'s field docstrings; the component's arguments
and outputs from the docstrings in ``args.py`` and ``integration.py``. ``make docs`` rewrites
docs/reference.md between the ``<!-- BEGIN x -->``/``<!-- END x -->`` markers; a test fails when it is stale.
Usage: python -m infra.reference [--write]
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from pathlib import Path

from infra.config import IntegrationConfig

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "reference.md"
COMPONENT = ROOT / "components" / "kubesphere_okta"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _default(field) -> str:
    if field.is_required():
        return "required"
    # JSON spelling (true, not True): the syntax a stack file and `pulumi config set` use.
    return "" if field.default in (None, []) else f"`{json.dumps(field.default)}`"


def config_table() -> str:
    rows = ["| key (`kubesphere-okta:`) | default | description |", "|---|---|---|"]
    docs = {name: doc for name, _, doc in _documented_attributes(ROOT / "infra" / "config.py", "IntegrationConfig")}
    for name, field in IntegrationConfig.model_fields.items():
        rows.append(f"| `{field.alias}` | {_default(field)} | {_cell(docs.get(name, ''))} |")
    return "\n".join(rows)


def _documented_attributes(source: Path, class_name: str) -> list[tuple[str, str, str]]:
    """(name, annotation, docstring) of each annotated attribute of a class, in order."""
    tree = ast.parse(source.read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name)
    found = []
    for node, following in zip(cls.body, cls.body[1:] + [None]):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            doc = ""
            if isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant):
                doc = str(following.value.value)
            found.append((node.target.id, ast.unparse(node.annotation), doc))
    return found


def args_table() -> str:
    rows = ["| argument | type | description |", "|---|---|---|"]
    for name, annotation, doc in _documented_attributes(COMPONENT / "args.py", "KubeSphereOktaIntegrationArgs"):
        kind = re.sub(r"pulumi\.Input\[(.*)\]$", r"\1", annotation)
        rows.append(f"| `{name}` | `{kind}` | {_cell(doc)} |")
    return "\n".join(rows)


def outputs_table() -> str:
    rows = ["| output | description |", "|---|---|"]
    for name, _, doc in _documented_attributes(COMPONENT / "integration.py", "KubeSphereOktaIntegration"):
        rows.append(f"| `{name}` | {_cell(doc)} |")
    return "\n".join(rows)


TABLES = {"config-reference": config_table, "component-args": args_table, "component-outputs": outputs_table}


def render(document: str) -> str:
    for marker, table in TABLES.items():
        pattern = re.compile(rf"(<!-- BEGIN {marker} -->\n)(?:.*?\n)?(<!-- END {marker} -->)", re.S)
        if not pattern.search(document):
            raise SystemExit(f"{REFERENCE.name} lacks the <!-- BEGIN {marker} --> / <!-- END {marker} --> markers")
        document = pattern.sub(lambda m: m.group(1) + table() + "\n" + m.group(2), document)
    return document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite docs/reference.md in place")
    options = parser.parse_args(argv)
    current = REFERENCE.read_text()
    updated = render(current)
    if options.write:
        REFERENCE.write_text(updated)
    elif updated != current:
        print("docs/reference.md tables are stale: run `make docs`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
