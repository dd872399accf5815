"""``cluster_binding.binding_changed``: when a provider's diff must report the binding as changed."""

from kubesphere_okta import cluster_binding as binding

A = {"server": "https://a", "kube_system_uid": "uid-a"}
B = {"server": "https://b", "kube_system_uid": "uid-b"}


def test_a_first_binding_is_a_change():
    assert binding.binding_changed(None, A) and binding.binding_changed({}, A)


def test_a_rebind_to_another_cluster_is_a_change():
    assert binding.binding_changed(A, B)


def test_the_same_cluster_at_a_new_address_is_no_change():
    assert not binding.binding_changed(A, {**A, "server": "https://a-new"})


def test_no_planned_identity_is_no_change():
    assert not binding.binding_changed(A, None) and not binding.binding_changed(A, {"kube_system_uid": ""})
