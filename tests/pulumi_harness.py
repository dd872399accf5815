"""Run Pulumi code under the mock runtime and record what it registers.

The implementation lives in ``infra.mock_runtime`` (the offline plan and the bench use it too);
tests import it from here.
"""

from infra.mock_runtime import (  # noqa: F401
    SECRET_SIG,
    OktaAndKubernetesMocks,
    Recording,
    RecordingMonitor,
    Registered,
    run,
)
