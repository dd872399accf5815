import pulumi
from kubesphere_okta import KubeSphereOktaIntegration

okta_login = KubeSphereOktaIntegration("kubesphere", {
    "console_url": "https://kubesphere.example.com",
    "issuer": "https://acme.okta.com",
    "kubesphere_version": "4.1",
    "group_names": ["KubeSphere Users"],
})
pulumi.export("clientId", okta_login.client_id)
pulumi.export("redirectUrl", okta_login.redirect_url)
