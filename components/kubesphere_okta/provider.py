"""``KubeSphereOktaIntegration`` served as a Pulumi component provider, for programs in any language.

``pulumi package add <this repository>`` reads ``PulumiPlugin.yaml`` (runtime: python) and runs
the repository's ``__main__.py``, which calls ``serve``. The engine starts that process, reads the
port it prints, asks for the schema (``GetSchema``) to generate an SDK for TypeScript, Go, C#,
Java or YAML, and builds each component with ``Construct``: the same Python class Python programs
use, registering the same children against the calling program's engine.

The schema is inferred by the Pulumi SDK's analyzer from the annotations of
``KubeSphereOktaIntegrationArgs`` and ``KubeSphereOktaIntegration``, exactly as
``pulumi.provider.experimental.component_provider_host`` does. That analyzer has no notion of
secrets, so ``schema_with_secrets`` adds ``secret: true`` to ``args.SECRET_ARGUMENTS`` and
``integration.SECRET_OUTPUTS``: the generated SDKs then encrypt the kubeconfig argument and the
client secret output in the consumer's state. That is the only difference from
``component_provider_host``, which cannot take a provider subclass.
"""

import json
from typing import Any, Optional

from pulumi.provider import main
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.experimental.util import camel_case

from . import __version__
from .args import SECRET_ARGUMENTS
from .integration import SECRET_OUTPUTS, TYPE_TOKEN, KubeSphereOktaIntegration

#: The Pulumi package name: the first part of every type token, and what ``pulumi package add`` names the SDK.
PACKAGE_NAME = TYPE_TOKEN.split(":", 1)[0]


def schema_with_secrets(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with the credential arguments and outputs marked ``secret``."""
    resource = schema["resources"][TYPE_TOKEN]
    for section, names in (("inputProperties", SECRET_ARGUMENTS), ("properties", SECRET_OUTPUTS)):
        for name in names:
            prop = resource[section].get(camel_case(name))
            if prop is None:
                raise ValueError(f"{name!r} is declared secret but is not in the schema's {section}")
            prop["secret"] = True
    return schema


class KubeSphereOktaProvider(ComponentProvider):
    """The component provider hosting ``KubeSphereOktaIntegration`` (schema with secrets marked)."""

    def __init__(self, version: str = __version__) -> None:
        super().__init__([KubeSphereOktaIntegration], PACKAGE_NAME, version=version)
        self.schema = json.dumps(schema_with_secrets(json.loads(self.schema)))


def serve(args: Optional[list[str]] = None) -> None:
    """Serve the provider over gRPC as the engine expects: print the port, then answer until killed.

    ``args`` are the engine's command-line arguments (the engine address first).
    """
    import sys

    main(KubeSphereOktaProvider(), sys.argv[1:] if args is None else args)
