"""What to do next when the API server (or the kubelet, for exec) refuses: one table.

Each rule matches an HTTP status code, a Status reason and/or a regular expression searched
in the server's message; the first rule that matches gives the hint. Message rules come
before code-only rules, so a 403 from a ResourceQuota, a LimitRange or Pod Security
admission is told apart from a 403 of RBAC (the kubeconfig's user lacking access).
A hint is text with {placeholders} filled from the message's named groups and the caller's
context (e.g. the object's kind and name), or a function of that mapping.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

Context = Mapping[str, str]


@dataclass(frozen=True)
class Rule:
    """One row of the table: what it matches (None matches anything) and the hint it gives."""

    hint: str | Callable[[Context], str]
    code: int | None = None
    reason: str | None = None
    message: str | None = None  # a regular expression, searched case-insensitively

    def matches(self, code: int | None, reason: str, message: str) -> re.Match | bool | None:
        """The message's match (or True) when this rule applies, else None."""
        if self.code is not None and code != self.code:
            return None
        if self.reason is not None and reason != self.reason:
            return None
        if self.message is None:
            return True
        return re.search(self.message, message, re.IGNORECASE)


def _unknown_field(c: Context) -> str:
    parent, field = c["path"].lstrip(".").rpartition(".")[::2]
    explain = ".".join([c.get("kind", "pod").lower(), *re.sub(r"\[[^]]*\]", "", parent).split(".")])
    return (f"{field!r} is not a field of {parent or c.get('kind', 'the object')}: fix its spelling or "
            f"its indentation; `kubectl explain {explain.rstrip('.')}` lists the valid fields.")


_SERVER = "`podlab status`"
_LAB_KUBECONFIG = "use the one `podlab up` wrote (~/.kube/podlab.config)"

RULES: tuple[Rule, ...] = (
    # Manifests (server-side apply with strict field validation).
    Rule(_unknown_field, message=r'(?P<path>\.\S+): field not declared in schema|unknown field "(?P<path2>[^"]+)"'),
    Rule("The same field appears twice in one object: keep only one.", message=r"duplicate field"),
    Rule(lambda c: f"{c['quantities'] if c.get('quantities', '…') != '…' else 'A resources value'} is not a "
                   "quantity: write a number with an optional suffix, such as 64Mi (mebibytes), 128M, 250m "
                   "(millicores) or 0.5.",
         message=r"quantities must match the regular expression"),
    Rule(lambda c: f"{c.get('fields') or 'The name'}: use only lowercase letters, digits and '-' ('.' too "
                   "in most object names), starting and ending with a letter or digit, e.g. 'web-1'.",
         message=r"RFC 1123 (subdomain|label) must consist of"),
    Rule("That field cannot change on an existing object: delete it first (lab.delete({name!r})) "
         "and apply again.", message=r"may not change fields|field is immutable"),
    # Admission: refusals that are not about who you are.
    Rule("A ResourceQuota in the namespace refused it: the message names the quota and the "
         "resource over its limit; lab.get('ResourceQuota', NAME) shows the quota's hard limits "
         "and what is used.", code=403, message=r"exceeded quota|failed quota|status unknown for quota"),
    Rule("A LimitRange in the namespace refused it: the container's requests or limits fall "
         "outside its bounds (the message says which); change the resources, or the LimitRange.",
         code=403, message=r"(maximum|minimum) \S+ usage per|limit to request ratio"),
    Rule("Pod Security admission refused the pod: the namespace's pod-security.kubernetes.io/enforce "
         "label sets a level, and the message lists each of the pod's settings that breaks it.",
         code=403, message=r"violates PodSecurity"),
    Rule("The namespace is being deleted (the lab was closed): open the lab again with open_lab().",
         code=403, message=r"because it is being terminated"),
    Rule("The namespace's default ServiceAccount does not exist (yet): open the lab again with "
         "open_lab(), which waits for it.",
         code=403, message=r'error looking up service account|serviceaccount "[^"]*" not found'),
    Rule(f"The kubeconfig's user lacks access (RBAC): {_LAB_KUBECONFIG}.",
         code=403, message=r'User "[^"]*" cannot'),
    Rule("An admission check refused it: the message says which rule and why.", code=403),
    Rule(f"The API server did not accept the kubeconfig's credentials: {_LAB_KUBECONFIG}; after "
         "the cluster was recreated, restart the kernel.", code=401),
    # Exec and logs: the pod or container is not in a state to answer.
    Rule("That program is not in the image: the lab image is busybox, which has sh, cat, ls, "
         "wget… but not bash or curl.", message=r"executable file not found|no such file or directory"),
    Rule("The pod has several containers: say which one with container= ({choices}).",
         message=r"a container name must be specified for pod \S+, choose one of: \[(?P<choices>[^]]*)\]"),
    Rule("The pod has no container {container}: check container= against the pod's spec.",
         message=r"container (?P<container>\S+) is not valid for pod"),
    Rule("previous=True reads the log of the instance before the last restart: there was no "
         "restart yet.", message=r"previous terminated container"),
    Rule("The container is not running (not yet, or not any more): wait for it first "
         "(lab.wait(name, podlab.ready)) and check the container name.",
         message=r"container not found|is waiting to start|does not have a host assigned|"
                 r"container \S+ is not running|cannot exec in a (stopped|deleted) "),
    # By code.
    Rule("The namespace {namespace} does not exist (anymore): open the lab again with open_lab().",
         code=404, message=r'namespaces "(?P<namespace>[^"]+)" not found'),
    Rule("It does not exist (anymore): check the name and the namespace.", code=404),
    Rule("An object by that name exists already: apply() updates it in place, or delete it first.",
         code=409, reason="AlreadyExists"),
    Rule("It changed meanwhile (or was replaced by a newer one): read it again and retry.", code=409),
    Rule(lambda c: f"Fix {c.get('fields') or 'the field named in the message'} and apply again; "
                   "`kubectl explain` describes each field.", code=422),
    Rule(f"The API server is busy or restarting: run the cell again in a moment ({_SERVER}).",
         message=r"the server is currently unable|too many requests|etcdserver"),
    Rule(f"The API server is unreachable: is the lab cluster up ({_SERVER})?", code=0),
)


class _Unknown(dict):
    def __missing__(self, key: str) -> str:
        return "…"


def hint_for(code: int | None, reason: str | None, message: str, *,
             context: Context | None = None) -> str | None:
    """The hint of the first rule matching code, reason and message (None when none does)."""
    for rule in RULES:
        found = rule.matches(code, reason or "", message or "")
        if not found:
            continue
        values = _Unknown(context or {})
        if isinstance(found, re.Match):
            values.update({k: v for k, v in found.groupdict().items() if v is not None})
            if "path2" in values:
                values["path"] = "." + values.pop("path2")
        if callable(rule.hint):
            return rule.hint(values)
        return rule.hint.format_map(values)
    return None
