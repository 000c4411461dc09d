"""Bad input for the local provider gets one clear message that says what to do."""

from __future__ import annotations

import socket

import pytest

from podlab.cluster.local import host
from podlab.cluster.local import layout as L
from podlab.errors import PodlabError, ProviderUnavailable


def test_not_linux_points_to_kind(monkeypatch):
    monkeypatch.setattr(host.platform, "system", lambda: "Darwin")
    missing = host.missing_prerequisites(need_go=True)
    assert len(missing) == 1 and "Linux" in missing[0] and "--provider kind" in missing[0]


def test_not_root_says_how_to_run(monkeypatch):
    monkeypatch.setattr(host.os, "geteuid", lambda: 1000)
    with pytest.raises(ProviderUnavailable) as error:
        host.check_prerequisites(need_go=False)
    assert "root" in str(error.value) and "sudo -E podlab up" in str(error.value)


def test_an_old_go_is_named_with_the_version_needed(monkeypatch):
    monkeypatch.setattr(host, "go_version", lambda: (1, 25, 3))
    missing = [m for m in host.missing_prerequisites(need_go=True) if m.startswith("Go")]
    assert missing and "Go ≥ 1.26.8" in missing[0] and "found go1.25.3" in missing[0]


def test_missing_go_is_reported_only_when_a_build_is_needed(monkeypatch):
    real_which = host.shutil.which
    monkeypatch.setattr(host.shutil, "which", lambda tool: None if tool == "go" else real_which(tool))
    assert any(m.startswith("Go") for m in host.missing_prerequisites(need_go=True))
    assert not any(m.startswith("Go") for m in host.missing_prerequisites(need_go=False))


def test_missing_tools_name_their_debian_package(monkeypatch):
    monkeypatch.setattr(host.shutil, "which", lambda tool: None)
    missing = "\n".join(host.missing_prerequisites(need_go=True))
    assert "iptables (apt-get install iptables)" in missing
    assert "nft (apt-get install nftables)" in missing
    assert "pkg-config (apt-get install pkg-config)" in missing     # runc's libseccomp binding


def test_foreign_kubeadm_files_are_named_and_left_alone(tmp_path, monkeypatch):
    etc = tmp_path / "etc-kubernetes"
    (etc / "manifests").mkdir(parents=True)
    (etc / "admin.conf").write_text("x")
    (etc / "manifests" / "kube-apiserver.yaml").write_text("x")
    monkeypatch.setattr(L, "KUBERNETES_DIR", etc)
    monkeypatch.setattr(L, "KUBELET_DIR", tmp_path / "var-lib-kubelet")
    monkeypatch.setattr(L, "ETCD_DIR", tmp_path / "var-lib-etcd")
    monkeypatch.setattr(L, "ADMIN_KUBECONFIG", etc / "admin.conf")
    monkeypatch.setattr(L, "MANIFESTS_DIR", etc / "manifests")
    layout = L.Layout(tmp_path / "state")
    (tmp_path / "var-lib-etcd" / "member").mkdir(parents=True)
    assert host.foreign_node_files(layout) == [str(etc / "admin.conf"), str(etc / "manifests" / "kube-apiserver.yaml"),
                                               f"{tmp_path / 'var-lib-etcd'} (not empty)"]
    layout.cluster_record.parent.mkdir(parents=True)
    layout.cluster_record.write_text("{}")          # podlab's own node: nothing foreign
    assert host.foreign_node_files(layout) == []


def test_a_taken_port_names_the_port_and_who_holds_it(monkeypatch):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        monkeypatch.setattr(L, "PORTS", {"kube-apiserver": port})
        with pytest.raises(PodlabError) as error:
            host.check_ports()
    message = str(error.value)
    assert f"{port} (kube-apiserver)" in message and "python" in message
    assert "podlab down" in message


def test_free_ports_pass(monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setattr(L, "PORTS", {"kube-apiserver": port})
    host.check_ports()
