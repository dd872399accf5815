"""Put a KubeSphere console behind Okta single sign-on, as one Pulumi component."""

from .args import IntegrationArgsError, KubeSphereOktaIntegrationArgs
from .integration import TYPE_TOKEN, KubeSphereOktaIntegration
from .usernames import IdentityProblems

__all__ = ["KubeSphereOktaIntegration", "KubeSphereOktaIntegrationArgs", "IntegrationArgsError", "TYPE_TOKEN", "IdentityProblems"]
