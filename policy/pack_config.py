"""The policy pack's configuration file (``--policy-pack-config``), from the repository's settings.

The Everyone group's id differs per Okta org, so it is not in the code: the workflows write this
file from the repository variable ``OKTA_EVERYONE_GROUP_IDS`` (one or more ``00g...`` ids,
separated by commas or spaces) and hand it to every ``pulumi preview``/``up`` with the pack.
Usage: python -m policy.pack_config FILE   (reads OKTA_EVERYONE_GROUP_IDS from the environment)
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

ENV = "OKTA_EVERYONE_GROUP_IDS"
_GROUP_ID = re.compile(r"^00g[A-Za-z0-9]{17}$")


def pack_config(everyone_group_ids: str) -> dict:
    """``{"okta-app-group-assignments": {"everyoneGroupIds": [...]}}``; ValueError on a bad id."""
    ids = [i for i in re.split(r"[,\s]+", everyone_group_ids.strip()) if i]
    bad = [i for i in ids if not _GROUP_ID.fullmatch(i)]
    if bad:
        raise ValueError(f"{ENV}: {', '.join(map(repr, bad))} is not an Okta group id (20 characters starting with 00g)")
    return {"okta-app-group-assignments": {"everyoneGroupIds": ids}}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    try:
        config = pack_config(os.environ.get(ENV, ""))
    except ValueError as error:
        print(f"::error::{error}", file=sys.stderr)
        return 1
    if not config["okta-app-group-assignments"]["everyoneGroupIds"]:
        print(f"::notice::{ENV} is not set: the okta-app-group-assignments policy cannot tell the Everyone "
              "group apart (set the repository variable to your org's Everyone group id)")
    Path(args[0]).write_text(json.dumps(config, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
