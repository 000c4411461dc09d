"""Which cluster podlab talks to (pure logic): the rule documented in podlab.connect."""

from __future__ import annotations

import json

import pytest
import yaml

from podlab import connect
from podlab.errors import ContextRefused


def write_kubeconfig(path, context: str, server: str = "https://prod.example.invalid:6443") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": context,
        "clusters": [{"name": "c", "cluster": {"server": server}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": context, "context": {"cluster": "c", "user": "u"}}]}))


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty home: no KUBECONFIG, no ~/.kube/config, no cluster recorded by `podlab up`."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("PODLAB_KUBECONFIG", str(tmp_path / ".kube" / "podlab.config"))
    monkeypatch.delenv("PODLAB_ALLOW_CONTEXT", raising=False)
    monkeypatch.delenv("KUBECONFIG", raising=False)
    return tmp_path


def record_local_cluster(home) -> None:
    """What `podlab up` leaves after starting the local provider."""
    write_kubeconfig(home / ".kube" / "podlab.config", "podlab", "https://10.200.0.1:6443")
    (home / ".kube" / "podlab.json").write_text(json.dumps(
        {"provider": "local", "context": "podlab", "kubeconfig": str(home / ".kube" / "podlab.config")}))


def test_the_cluster_podlab_up_recorded_is_used_without_kubeconfig(home):
    record_local_cluster(home)
    chosen = connect.choose_kubeconfig()
    assert (chosen.provider, chosen.context, chosen.rule) == ("local", "podlab", "recorded by `podlab up`")
    assert connect._load_config(chosen).host == "https://10.200.0.1:6443"


def test_kubeconfig_wins_over_the_recorded_cluster_as_for_kubectl(home, monkeypatch):
    record_local_cluster(home)
    write_kubeconfig(home / "other", "kind-podlab", "https://127.0.0.1:40000")
    monkeypatch.setenv("KUBECONFIG", str(home / "other"))
    chosen = connect.choose_kubeconfig()
    assert (chosen.provider, chosen.context, chosen.rule) == ("existing", "kind-podlab", "KUBECONFIG")
    assert connect._load_config(chosen).host == "https://127.0.0.1:40000"


def test_a_production_context_in_kubeconfig_is_refused_not_replaced(home, monkeypatch):
    record_local_cluster(home)
    write_kubeconfig(home / "prod", "prod-eu")
    monkeypatch.setenv("KUBECONFIG", str(home / "prod"))
    with pytest.raises(ContextRefused) as error:
        connect.choose_kubeconfig()
    assert "prod-eu" in str(error.value) and "--allow-context prod-eu" in str(error.value)


def test_without_a_record_the_default_kubeconfig_must_be_a_lab_context(home):
    write_kubeconfig(home / ".kube" / "config", "prod-eu")
    with pytest.raises(ContextRefused):
        connect.choose_kubeconfig()
    write_kubeconfig(home / ".kube" / "config", "kind-podlab")
    assert connect.choose_kubeconfig().context == "kind-podlab"


def test_a_context_allowed_by_name_is_accepted(home, monkeypatch):
    write_kubeconfig(home / "teaching", "teaching-cluster")
    monkeypatch.setenv("KUBECONFIG", str(home / "teaching"))
    monkeypatch.setenv("PODLAB_ALLOW_CONTEXT", "teaching-cluster")
    assert connect.choose_kubeconfig().context == "teaching-cluster"


def test_an_explicit_kubeconfig_is_used_as_given(home):
    write_kubeconfig(home / "explicit", "anything")
    chosen = connect.choose_kubeconfig(home / "explicit")
    assert (chosen.context, chosen.kubeconfig, chosen.rule) == ("anything", home / "explicit", "passed explicitly")
