"""Pulumi entry point (Pulumi.yaml `main: infra/`): run the program."""

import os
import sys

# Pulumi runs this directory as the program; the component library lives one level up.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from infra import collector  # noqa: E402

with collector.importing():  # no collections while the component, the SDKs and pydantic load
    from infra import program

# Registration runs on after this module returns, until the language host exits: tune the
# collector for the rest of this process (infra/collector.py says why and what it changes).
collector.tune_for_registration()
program.main()
