"""Run ``__main__.py`` of the current directory under Pulumi's mocks; print what it registered and exported.

tests/test_python_consumer.py copies this next to the example program in a fresh virtualenv, so it
imports nothing of this repository, only what that virtualenv has installed. The mocks answer as
Okta would: an OAuth app gets a client id and secret, a group name resolves to an id.
"""

import json
import runpy

import pulumi

CLIENT_ID = "0oa1exampleclient000"
registered: list[str] = []
exports: dict = {}


class OktaMocks(pulumi.runtime.Mocks):
    def new_resource(self, args):
        outputs = dict(args.inputs)
        if args.typ == "okta:app/oAuth:OAuth":
            outputs.update(clientId=CLIENT_ID, clientSecret="example-client-secret")
        registered.append(args.typ)
        return [f"{args.name}-id", outputs]

    def call(self, args):
        if args.token == "okta:group/getGroup:getGroup":
            return {"id": "00g1usersusersusersu", "name": args.args["name"], "type": "OKTA_GROUP"}
        return {}


def program():
    runpy.run_path("__main__.py", run_name="__main__")
    stack = pulumi.runtime.get_root_resource()  # pulumi.export keeps the outputs on the root Stack
    return pulumi.Output.all(**stack.outputs).apply(exports.update)


pulumi.runtime.set_mocks(OktaMocks(), project="kubesphere-login", stack="dev", preview=False)
pulumi.runtime.test(program)()
print(json.dumps({"registered": registered, "exports": exports}))
