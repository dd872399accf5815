"""Serve the kubesphere-okta policy pack (the Pulumi CLI runs this; tests never import it)."""

import pathlib
import sys

# The pack reuses the component's own rules: make the repository root importable.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from policy.kubesphere_okta_policies import POLICIES  # noqa: E402

PolicyPack(name="kubesphere-okta", policies=POLICIES, enforcement_level=EnforcementLevel.MANDATORY)
