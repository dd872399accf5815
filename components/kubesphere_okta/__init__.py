"""Put a KubeSphere console behind Okta single sign-on, as one Pulumi component."""

#: The release (semantic versioning, see CHANGELOG.md); pyproject.toml reads it from here.
__version__ = "0.2.1"

from .args import IntegrationArgsError, KubeSphereOktaIntegrationArgs
from .integration import TYPE_TOKEN, KubeSphereOktaIntegration
from .usernames import IdentityProblems

__all__ = ["KubeSphereOktaIntegration", "KubeSphereOktaIntegrationArgs", "IntegrationArgsError", "TYPE_TOKEN", "IdentityProblems"]
