"""The existing provider accepts only lab contexts, or a context allowed by its exact name."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from podlab.cluster.existing import ExistingProvider, current_context, probe_api_server
from podlab.errors import ContextRefused, ProviderUnavailable

SERVER = "https://prod.example.com:6443"


def write_kubeconfig(path: Path, current: str | None, contexts: dict[str, str],
                     clusters: dict[str, str]) -> Path:
    """Write a kubeconfig with the given contexts {name: cluster} and clusters {name: server}."""
    doc = {
        "apiVersion": "v1", "kind": "Config",
        "contexts": [{"name": n, "context": {"cluster": c, "user": "u"}} for n, c in contexts.items()],
        "clusters": [{"name": n, "cluster": {"server": s}} for n, s in clusters.items()],
        "users": [{"name": "u", "user": {"token": "t"}}],
    }
    if current is not None:
        doc["current-context"] = current
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PODLAB_ALLOW_CONTEXT", raising=False)
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def use_context(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str) -> Path:
    """Make `name` the current context of the kubeconfig in KUBECONFIG."""
    path = write_kubeconfig(tmp_path / "kubeconfig", name, {name: "c1"}, {"c1": SERVER})
    monkeypatch.setenv("KUBECONFIG", str(path))
    return path


def provider(allow: str | None = None) -> ExistingProvider:
    return ExistingProvider(allow_context=allow, probe=None)


@pytest.mark.parametrize("name", ["kind-podlab", "kind-dev", "podlab"])
def test_lab_contexts_are_accepted(monkeypatch, tmp_path, name):
    path = use_context(monkeypatch, tmp_path, name)
    info = provider().up()
    assert (info.provider, info.context, info.kubeconfig) == ("existing", name, path)
    ready = provider().check()
    assert ready.usable and ready.missing == ()
    assert name in ready.notes[0] and SERVER in ready.notes[0]


@pytest.mark.parametrize("name", ["prod", "kind", "kindergarten", "podlab-prod", "my-kind-x"])
def test_other_contexts_are_refused_naming_context_and_server(monkeypatch, tmp_path, name):
    use_context(monkeypatch, tmp_path, name)
    with pytest.raises(ContextRefused) as refused:
        provider().up()
    assert f"'{name}'" in refused.value.message and SERVER in refused.value.message
    assert f"--allow-context {name}`" in refused.value.hint
    assert f"PODLAB_ALLOW_CONTEXT={name}`" in refused.value.hint
    assert "--provider kind" in refused.value.hint and "--provider local" in refused.value.hint
    ready = provider().check()
    assert not ready.usable and name in ready.missing[0]


def test_allowed_by_flag(monkeypatch, tmp_path):
    use_context(monkeypatch, tmp_path, "staging")
    assert provider(allow="staging").up().context == "staging"
    assert "allowed explicitly" in provider(allow="staging").status()


def test_allowed_by_env(monkeypatch, tmp_path):
    use_context(monkeypatch, tmp_path, "staging")
    monkeypatch.setenv("PODLAB_ALLOW_CONTEXT", "staging")
    assert provider().up().context == "staging"


def test_wrong_name_in_env_is_still_refused(monkeypatch, tmp_path):
    use_context(monkeypatch, tmp_path, "prod")
    monkeypatch.setenv("PODLAB_ALLOW_CONTEXT", "staging")
    with pytest.raises(ContextRefused) as refused:
        provider().up()
    assert "'staging'" in refused.value.message and "different name" in refused.value.message


def test_wrong_name_in_flag_is_still_refused(monkeypatch, tmp_path):
    use_context(monkeypatch, tmp_path, "prod")
    with pytest.raises(ContextRefused):
        provider(allow="prod2").up()


@pytest.mark.parametrize("truthy", ["1", "true", "yes"])
def test_a_boolean_does_not_allow_a_context(monkeypatch, tmp_path, truthy):
    use_context(monkeypatch, tmp_path, "prod")
    monkeypatch.setenv("PODLAB_ALLOW_CONTEXT", truthy)
    with pytest.raises(ContextRefused):
        provider().up()


def test_missing_kubeconfig_is_unavailable_with_hint(monkeypatch, tmp_path):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "nope"))
    with pytest.raises(ProviderUnavailable) as unavailable:
        provider().up()
    assert str(tmp_path / "nope") in unavailable.value.message
    assert "KUBECONFIG" in unavailable.value.hint and "--provider kind" in unavailable.value.hint
    ready = provider().check()  # reports, does not raise
    assert not ready.usable and "No kubeconfig" in ready.missing[0]
    assert provider().status().startswith("existing: not usable")


def test_default_kubeconfig_is_home_kube_config(tmp_path):
    path = write_kubeconfig(tmp_path / "home/.kube/config", "kind-x", {"kind-x": "c"}, {"c": SERVER})
    assert provider().up().kubeconfig == path


def test_no_current_context_is_unavailable(monkeypatch, tmp_path):
    path = write_kubeconfig(tmp_path / "k", None, {"a": "c"}, {"c": SERVER})
    monkeypatch.setenv("KUBECONFIG", str(path))
    with pytest.raises(ProviderUnavailable, match="no current context") as unavailable:
        provider().up()
    assert "kubectl config use-context" in unavailable.value.hint


def test_undefined_current_context_is_unavailable(monkeypatch, tmp_path):
    path = write_kubeconfig(tmp_path / "k", "ghost", {"a": "c"}, {"c": SERVER})
    monkeypatch.setenv("KUBECONFIG", str(path))
    with pytest.raises(ProviderUnavailable, match="'ghost' is not defined"):
        provider().up()


def test_broken_yaml_is_reported_not_raised_by_check(monkeypatch, tmp_path):
    bad = tmp_path / "k"
    bad.write_text("contexts: [unclosed\n")
    monkeypatch.setenv("KUBECONFIG", str(bad))
    ready = provider().check()
    assert not ready.usable and str(bad) in ready.missing[0]


def test_kubeconfig_list_merges_like_kubectl(monkeypatch, tmp_path):
    first = write_kubeconfig(tmp_path / "a", "kind-a", {"kind-a": "ca"}, {})
    second = write_kubeconfig(tmp_path / "b", "prod", {"prod": "cp"}, {"ca": "https://a:1", "cp": SERVER})
    monkeypatch.setenv("KUBECONFIG", f"{first}:{tmp_path / 'missing'}:{second}")
    ctx = current_context()
    assert (ctx.name, ctx.server, ctx.files) == ("kind-a", "https://a:1", (first, second))
    assert provider().up().kubeconfig is None  # several files: the client merges KUBECONFIG itself


def test_unanswering_cluster_is_not_ready(monkeypatch, tmp_path):
    use_context(monkeypatch, tmp_path, "kind-gone")
    seen = []
    ready = ExistingProvider(probe=lambda ctx: seen.append(ctx.name) or "connection refused").check()
    assert seen == ["kind-gone"]
    assert not ready.usable and "does not answer: connection refused" in ready.missing[0]


def test_refused_context_is_never_probed(monkeypatch, tmp_path):
    use_context(monkeypatch, tmp_path, "prod")
    seen = []
    ExistingProvider(probe=lambda ctx: seen.append(ctx) and None).check()
    assert seen == []


def test_real_probe_reports_a_closed_port(monkeypatch, tmp_path):
    path = write_kubeconfig(tmp_path / "k", "kind-x", {"kind-x": "c"}, {"c": "http://127.0.0.1:9"})
    monkeypatch.setenv("KUBECONFIG", str(path))
    started = time.monotonic()
    failure = probe_api_server(current_context(), timeout=2)
    assert failure and time.monotonic() - started < 10


def test_down_leaves_the_cluster_alone(monkeypatch, tmp_path, capsys):
    path = use_context(monkeypatch, tmp_path, "kind-podlab")
    before = path.read_text()
    assert provider().down() is None
    assert path.read_text() == before
    assert "did not create" in capsys.readouterr().err
