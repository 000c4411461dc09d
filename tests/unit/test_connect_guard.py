"""Without podlab's own kubeconfig, helpers connect only to a lab context (pure logic)."""

from __future__ import annotations

import pytest
import yaml

from podlab import connect
from podlab.errors import ContextRefused


def write_kubeconfig(path, context: str) -> None:
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": context,
        "clusters": [{"name": "c", "cluster": {"server": "https://prod.example.invalid:6443"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": context, "context": {"cluster": "c", "user": "u"}}]}))


@pytest.fixture
def no_podlab_kubeconfig(tmp_path, monkeypatch):
    monkeypatch.setenv("PODLAB_KUBECONFIG", str(tmp_path / "absent.config"))
    monkeypatch.delenv("PODLAB_ALLOW_CONTEXT", raising=False)
    kubeconfig = tmp_path / "config"
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    return kubeconfig


def test_a_production_context_is_refused_by_name(no_podlab_kubeconfig):
    write_kubeconfig(no_podlab_kubeconfig, "prod-eu")
    with pytest.raises(ContextRefused) as error:
        connect._load_config(None)
    assert "prod-eu" in str(error.value) and "--allow-context prod-eu" in str(error.value)


def test_a_kind_context_is_accepted(no_podlab_kubeconfig):
    write_kubeconfig(no_podlab_kubeconfig, "kind-podlab")
    assert connect._load_config(None).host == "https://prod.example.invalid:6443"


def test_a_context_allowed_by_name_is_accepted(no_podlab_kubeconfig, monkeypatch):
    write_kubeconfig(no_podlab_kubeconfig, "teaching-cluster")
    monkeypatch.setenv("PODLAB_ALLOW_CONTEXT", "teaching-cluster")
    assert connect._load_config(None).host == "https://prod.example.invalid:6443"
