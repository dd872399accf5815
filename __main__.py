"""Entry point of the ``kubesphere-okta`` component provider (see PulumiPlugin.yaml).

The engine runs ``python <this directory> <engine address>`` in the plugin's virtualenv, which
holds requirements.txt but not this repository itself: serve the component from the source next
to this file, so the provider is exactly the code of the version that was added.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "components"))

from kubesphere_okta.provider import serve  # noqa: E402

if __name__ == "__main__":
    serve()
