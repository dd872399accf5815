"""Generate the README's reference tables from the code's own descriptions.

The config keys come from ``IntegrationConfig``'s field docstrings; the component's arguments
and outputs from the docstrings in ``args.py`` and ``integration.py``. ``make docs`` rewrites the
README between the ``<!-- BEGIN x -->``/``<!-- END x -->`` markers; a test fails when it is stale.
Usage: python -m infra.reference [--write]
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

from infra.config import IntegrationConfig

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
COMPONENT = ROOT / "components" / "kubesphere_okta"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _default(field) -> str:
    if field.is_required():
        return "required"
    return "" if field.default in (None, []) else f"`{field.default!r}`".replace("'", '"')


def config_table() -> str:
    rows = ["| key (`kubesphere-okta:`) | default | description |", "|---|---|---|"]
    for field in IntegrationConfig.model_fields.values():
        rows.append(f"| `{field.alias}` | {_default(field)} | {_cell(field.description or '')} |")
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


def render(readme: str) -> str:
    for marker, table in TABLES.items():
        pattern = re.compile(rf"(<!-- BEGIN {marker} -->\n)(?:.*?\n)?(<!-- END {marker} -->)", re.S)
        if not pattern.search(readme):
            raise SystemExit(f"README.md lacks the <!-- BEGIN {marker} --> / <!-- END {marker} --> markers")
        readme = pattern.sub(lambda m: m.group(1) + table() + "\n" + m.group(2), readme)
    return readme


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite README.md in place")
    options = parser.parse_args(argv)
    current = README.read_text()
    updated = render(current)
    if options.write:
        README.write_text(updated)
    elif updated != current:
        print("README.md reference tables are stale: run `make docs`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
