"""Pulumi entry point (Pulumi.yaml `main: infra/`): run the program."""

import os
import sys

# Pulumi runs this directory as the program; the component library lives one level up.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from infra import program  # noqa: E402

program.main()
