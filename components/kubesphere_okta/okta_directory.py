"""``OktaDirectory``: every Okta read of one component run, each asked at most once (Pulumi wiring).

Everything in a ``KubeSphereOktaIntegration`` that needs to know about an Okta group (the app's
group assignments, the sign-on and access policies, the Users and role bindings of the members)
asks the component's one ``OktaDirectory``. A group named anywhere in the arguments therefore
costs exactly one ``getGroup`` (names only; ids are used as given) and, when its members are
needed, one ``getUsers`` per run, in preview and in ``pulumi up`` alike: 5 groups named in
``role_bindings`` cost 5 + 5 invokes, however many places use them.

The directory belongs to one component, not to the whole program: its invokes carry the
component as parent, so they go to that component's Okta provider, and two components pointed at
two Okta orgs must never share answers.

The reads are synchronous, so that a group that is not found, or a member KubeSphere cannot take,
is reported before any child resource is registered. Exact-name checks (Okta's lookup matches
prefixes) are the pure ``rules.exact_group_id``.

``getUsers`` is invoked as ``pulumi_okta.user.get_users`` invokes it (same token, arguments,
plugin version and download URL, provider: ``tests/test_okta_directory.py`` compares the two
requests), but its answer is read as the plain values the engine sent
(``usernames.members_from_answer``): the SDK function turns every member into a
``GetUsersUserResult`` of ~45 fields, which for 50,000 group memberships was about a quarter of a
10,000-member plan (docs/performance.md, "Membership at scale").
"""

from __future__ import annotations

from typing import Iterable

import pulumi
import pulumi_okta as okta
from pulumi_okta import _utilities as okta_sdk

from . import rules
from .usernames import OktaMember, members_from_answer

#: pulumi-okta's invoke token of ``okta.user.get_users``.
GET_USERS = "okta:user/getUsers:getUsers"


class OktaDirectory:
    """The Okta groups and group members one component run reads, each at most once.

    ``group_id(name_or_id)``: the group's id (names looked up with an exact-name check);
    ``members(name_or_id)``: its members as ``OktaMember`` (one ``getUsers`` per group).
    Another module needing Okta groups (workspace, project or cluster role maps) asks the same
    directory, never ``okta.group``/``okta.user`` itself.
    """

    def __init__(self, parent: pulumi.Resource):
        self._parent = parent
        self._ids: dict[str, str] = {}
        self._answered: set[str] = set()
        self._members: dict[str, list[OktaMember]] = {}

    def _invoke_options(self) -> pulumi.InvokeOptions:
        return pulumi.InvokeOptions(parent=self._parent)

    def group_id(self, group: str) -> str:
        """An Okta group id (``00g...``) as given, or the id of the group with exactly this name."""
        if rules.is_okta_group_id(group) or group in self._answered:
            return group  # an id, or an id this directory answered (offline plans answer placeholders)
        if group not in self._ids:
            found = okta.group.get_group(name=group, opts=self._invoke_options())
            self._ids[group] = rules.exact_group_id(group, found.name, found.id)
            self._answered.add(self._ids[group])
        return self._ids[group]

    def group_ids(self, groups: Iterable[str]) -> list[str]:
        """``group_id`` of each, in order, without duplicates (a group listed by name and id counts once)."""
        return list(dict.fromkeys(self.group_id(group) for group in groups))

    def members(self, group: str) -> list[OktaMember]:
        """The members of a group (by id or name), as Okta lists them; one ``getUsers`` per group."""
        gid = self.group_id(group)
        if gid not in self._members:
            opts = pulumi.InvokeOptions.merge(okta_sdk.get_invoke_opts_defaults(), self._invoke_options())
            answer = pulumi.runtime.invoke(GET_USERS, {"groupId": gid}, opts=opts).value
            self._members[gid] = members_from_answer(answer)
        return self._members[gid]
