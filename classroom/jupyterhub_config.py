"""JupyterHub on one machine for a podlab course (issue 23): a test set-up, bound to 127.0.0.1.

    podlab classroom create --course k8s101 --students 2 --out k8s101-kubeconfigs/
    PODLAB_HUB_KUBECONFIGS=k8s101-kubeconfigs jupyterhub -f classroom/jupyterhub_config.py

(classroom/README.md says how to install JupyterHub and its proxy.) Each user named like a
kubeconfig in PODLAB_HUB_KUBECONFIGS (student-01 for student-01.kubeconfig) may log in; the
spawner hook gives them that kubeconfig as ~/.kube/config and KUBECONFIG, and a copy of the labs,
so every lab they open runs in classroom mode in their namespace (podlab.classmode). Users are
processes of the hub's own account (SimpleLocalProcessSpawner), each with a home directory of its
own under PODLAB_HUB_STATE: students are kept apart by their kubeconfigs, not by Unix accounts,
so this is for trying a course out on one machine, not for a real class (classroom/README.md
gives Zero to JupyterHub's values for that).

The authenticator is JupyterHub's DummyAuthenticator, its test authenticator: any password is
accepted for a user of the roster. Never expose it beyond this machine.
"""

import os
import shutil
import sys
from pathlib import Path

from tornado.web import HTTPError

c = get_config()  # noqa: F821 (JupyterHub's config loader defines it)

REPO = Path(__file__).resolve().parents[1]
KUBECONFIGS = Path(os.environ["PODLAB_HUB_KUBECONFIGS"]).expanduser().resolve()  # `classroom create --out`
STATE = Path(os.environ.get("PODLAB_HUB_STATE", "~/.local/share/podlab/hub")).expanduser().resolve()
STATE.mkdir(parents=True, exist_ok=True, mode=0o700)

c.JupyterHub.bind_url = os.environ.get("PODLAB_HUB_URL", "http://127.0.0.1:8000")
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.hub_bind_url = os.environ.get("PODLAB_HUB_API_URL", "http://127.0.0.1:8081")  # the hub's own API
c.ConfigurableHTTPProxy.command = [os.environ.get("PODLAB_HUB_PROXY", "configurable-http-proxy")]
c.ConfigurableHTTPProxy.api_url = os.environ.get("PODLAB_HUB_PROXY_API_URL", "http://127.0.0.1:8001")
c.ConfigurableHTTPProxy.pid_file = str(STATE / "proxy.pid")

# The test authenticator: the roster is whoever has a kubeconfig.
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allowed_users = {p.name.removesuffix(".kubeconfig") for p in KUBECONFIGS.glob("*.kubeconfig")}
c.Authenticator.admin_users = set()

c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = str(STATE / "home" / "{username}")
c.Spawner.default_url = "/lab/tree/labs/01-downward-api.ipynb"
# The single-user server runs in the hub's Python (JupyterLab, ipykernel and the labs' packages:
# podlab.hubenv builds one), with podlab from this checkout, the one whose labs the users get: the
# hub environment is shared by every checkout on the machine, so it holds no podlab of its own.
c.Spawner.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]
c.Spawner.environment = {"PYTHONPATH": os.pathsep.join(
    [str(REPO / "helpers"), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))])}
c.Spawner.start_timeout = 120
if os.geteuid() == 0:  # Jupyter Server refuses to run as root unless told (our lab machines run as root)
    c.Spawner.args = ["--ServerApp.allow_root=True"]


def give_kubeconfig(spawner) -> None:
    """Before a user's server starts: their kubeconfig as ~/.kube/config and KUBECONFIG, and the labs."""
    name = spawner.user.name
    source = KUBECONFIGS / f"{name}.kubeconfig"
    if not source.is_file():
        raise HTTPError(403, f"No kubeconfig for {name} in {KUBECONFIGS}: ask your instructor "
                             "(`podlab classroom create` writes one per student).")
    home = Path(spawner.home_dir)
    kube = home / ".kube"
    kube.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = kube / "config"
    shutil.copyfile(source, target)  # a new token from `create` again reaches the user at the next start
    os.chmod(target, 0o600)
    labs = home / "labs"
    if not labs.exists():  # the student's copy: their edits stay theirs
        shutil.copytree(REPO / "labs", labs, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    spawner.environment["KUBECONFIG"] = str(target)


c.Spawner.pre_spawn_hook = give_kubeconfig
