#!/usr/bin/env python3
"""Checks the deployment files against each other and against cairnd's own settings.

    python3 Scripts/check-deploy.py [--root DIR]   # check the files under DIR (default: this repository)
    python3 Scripts/check-deploy.py --self-test    # break copies of the files on purpose; every break must be caught

What it reads:
  Scripts/deploy/kubernetes/cairn.yaml   the Kubernetes objects (every YAML document)
  Scripts/deploy/cairnd.service          the systemd unit
  Scripts/deploy/cairnd.env.example      the node's environment file
  Scripts/deploy/Dockerfile              the image
  docs/deployment.md                     the walk-through (links stay inside the repository)
and, for what is true of the code:
  Sources/cairnd/Settings.swift          the settings cairnd accepts; CAIRN_<NAME> is derived from them here
                                         as Settings.init derives it, so a wrong or retired name fails
  Sources/cairn/NodeOptions.swift        the CAIRN_* variables the cairn CLI reads (used by the scripts)
  Package.swift                          swift-tools-version and the apt packages of the system libraries

Every problem is printed on its own line on stderr, and the exit status is 1; on success one
summary line is printed on stdout. Needs PyYAML (Debian: python3-yaml).
"""

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

try:
    import yaml
except ImportError:  # pragma: no cover - a message instead of a traceback
    sys.stderr.write("check-deploy: PyYAML is missing: apt-get install python3-yaml (or pip install pyyaml)\n")
    sys.exit(2)


K8S = "Scripts/deploy/kubernetes/cairn.yaml"
UNIT = "Scripts/deploy/cairnd.service"
ENV_EXAMPLE = "Scripts/deploy/cairnd.env.example"
DOCKERFILE = "Scripts/deploy/Dockerfile"
DOCS = "docs/deployment.md"
SETTINGS = "Sources/cairnd/Settings.swift"
CLI_OPTIONS = "Sources/cairn/NodeOptions.swift"
PACKAGE = "Package.swift"

POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
# Ubuntu and Debian releases by codename and version, to pair a swift:X-CODENAME build stage
# with its runtime image.
RELEASES = {
    "noble": ("ubuntu", "24.04"), "jammy": ("ubuntu", "22.04"), "focal": ("ubuntu", "20.04"),
    "bookworm": ("debian", "12"), "bullseye": ("debian", "11"), "trixie": ("debian", "13"),
}
DOWNWARD_FIELDS = {
    "metadata.name", "metadata.namespace", "metadata.uid", "metadata.labels", "metadata.annotations",
    "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs",
}


class Problems:
    def __init__(self):
        self.items = []

    def add(self, where, message):
        self.items.append(f"{where}: {message}")

    def __len__(self):
        return len(self.items)


# ---------------------------------------------------------------------------------------------
# What the code says


class Code:
    """Facts read from the Swift sources."""

    def __init__(self, root, problems):
        self.settings = set()  # cairnd's CAIRN_* variables
        self.cli_variables = set()  # the cairn CLI's CAIRN_* variables
        self.defaults = {}
        self.tools_version = None
        self.apt_packages = []
        self._read_settings(root, problems)
        self._read_cli(root, problems)
        self._read_package(root, problems)

    def _read_settings(self, root, problems):
        text = read(root, SETTINGS, problems)
        if text is None:
            return
        block = re.search(r"static let names\s*=\s*\[(.*?)\]", text, re.S)
        if not block:
            problems.add(SETTINGS, "no `static let names = [...]`: cannot tell which settings cairnd accepts")
            return
        names = re.findall(r'"([a-z0-9-]+)"', block.group(1))
        if not names:
            problems.add(SETTINGS, "`static let names` lists no setting")
            return
        # Settings.init: environmentName = "CAIRN_" + name.uppercased() with "_" for "-".
        if not re.search(r'"CAIRN_"\s*\+\s*String\(name\.uppercased\(\)\.map\s*\{\s*\$0 == "-" \? "_" : \$0\s*\}\)', text):
            problems.add(SETTINGS, "Settings.init no longer derives CAIRN_<NAME> as this check assumes (\"CAIRN_\" + name.uppercased(), - as _)")
        self.settings = {"CAIRN_" + name.upper().replace("-", "_") for name in names}
        self.settings |= set(re.findall(r'environment\("(CAIRN_[A-Z0-9_]+)"\)', text))
        self.setting_names = names
        for setting in ("http-max-connections", "resp-max-connections"):
            match = re.search(r'values\["%s"\], name: "--%s"\) \?\? (\d+)' % (setting, setting), text)
            if match:
                self.defaults[setting] = int(match.group(1))
            else:
                problems.add(SETTINGS, f"cannot find the default of --{setting}")
        match = re.search(r'values\["listen"\] \?\? "([^"]+)"', text)
        self.defaults["listen"] = match.group(1) if match else "127.0.0.1:7070"
        match = re.search(r'values\["http"\] \?\? "\\\(listenHost\):(\d+)"', text)
        self.defaults["http-port"] = int(match.group(1)) if match else 7080

    def _read_cli(self, root, problems):
        text = read(root, CLI_OPTIONS, problems)
        if text is None:
            return
        self.cli_variables = set(re.findall(r'"(CAIRN_[A-Z0-9_]+)"', text))
        if not self.cli_variables:
            problems.add(CLI_OPTIONS, "names no CAIRN_* variable: cannot tell which the CLI reads")

    def _read_package(self, root, problems):
        text = read(root, PACKAGE, problems)
        if text is None:
            return
        match = re.search(r"swift-tools-version:\s*([0-9.]+)", text)
        if match:
            self.tools_version = version_tuple(match.group(1))
        else:
            problems.add(PACKAGE, "no swift-tools-version line")
        for group in re.findall(r"\.apt\(\[(.*?)\]\)", text, re.S):
            self.apt_packages += re.findall(r'"([^"]+)"', group)
        if not self.apt_packages:
            problems.add(PACKAGE, "no .apt([...]) providers found for the system library targets")


def read(root, relative, problems):
    path = os.path.join(root, relative)
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as error:
        problems.add(relative, f"cannot be read: {error.strerror}")
        return None


def version_tuple(text):
    return tuple(int(part) for part in text.split(".") if part.isdigit())


def host_port(text):
    """(host, port) of `host:port` or `[v6]:port`, as WireAddress parses it; None if it is not one."""
    if not isinstance(text, str) or ":" not in text:
        return None
    host, _, port = text.rpartition(":")
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        return None
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host:
        return None
    return host, int(port)


def is_loopback(host):
    # Settings.isLoopback
    return host in ("localhost", "::1", "[::1]") or host.startswith("127.")


def check_values(where, values, code, problems, nodes_hint=None):
    """Checks the values of cairnd settings given as CAIRN_* variables (a dict), as cairnd
    would at start: numbers, quorums, the partition count, durability, protected mode."""
    def integer(name, low=None, high=None):
        text = values.get(name)
        if text is None:
            return None
        if not re.fullmatch(r"-?\d+", text):
            problems.add(where, f"{name}={text} is not a number")
            return None
        value = int(text)
        if (low is not None and value < low) or (high is not None and value > high):
            problems.add(where, f"{name}={value} is outside {low}...{high}")
        return value

    n = integer("CAIRN_N", 1, 9)
    r = integer("CAIRN_R", 1, 9)
    w = integer("CAIRN_W", 1, 9)
    replicas = n if n is not None else 3
    for name, value in (("CAIRN_R", r), ("CAIRN_W", w)):
        if value is not None and value > replicas:
            problems.add(where, f"{name}={value} is more than N={replicas}")
    partitions = integer("CAIRN_PARTITIONS", 1, 65536)
    if partitions is not None and partitions & (partitions - 1):
        problems.add(where, f"CAIRN_PARTITIONS={partitions} is not a power of two")
    integer("CAIRN_MAX_IN_FLIGHT", 1, 1_000_000)
    integer("CAIRN_HTTP_MAX_CONNECTIONS", 1, 65536)
    integer("CAIRN_RESP_MAX_CONNECTIONS", 1, 65536)
    integer("CAIRN_TOMBSTONE_GRACE", 0, 366 * 86400)
    integer("CAIRN_CAS_STATE_GRACE", 0, 366 * 86400)
    integer("CAIRN_CORES", 1, 64)
    integer("CAIRN_DATA_FILE_SIZE", 64 << 10, 1 << 30)
    durability = values.get("CAIRN_DURABILITY")
    if durability is not None and not re.fullmatch(r"always|none|interval:\d+", durability):
        problems.add(where, f"CAIRN_DURABILITY={durability}: cairnd takes always, interval:MS or none")
    level = values.get("CAIRN_LOG_LEVEL")
    if level is not None and level not in ("trace", "debug", "info", "notice", "warning", "error", "critical"):
        problems.add(where, f"CAIRN_LOG_LEVEL={level} is not a log level")
    allow = values.get("CAIRN_ALLOW_UNAUTHENTICATED")
    if allow is not None and allow != "yes":
        problems.add(where, f"CAIRN_ALLOW_UNAUTHENTICATED takes only yes, not {allow}")
    if values.get("CAIRN_UNSAFE_MODE"):
        problems.add(where, "CAIRN_UNSAFE_MODE is for testing only (docs/operations.md)")

    addresses = {}
    for name in ("CAIRN_LISTEN", "CAIRN_HTTP", "CAIRN_RESP"):
        if values.get(name):
            parsed = host_port(values[name])
            if parsed is None:
                problems.add(where, f"{name}={values[name]} is not HOST:PORT")
            else:
                addresses[name] = parsed
    listen = addresses.get("CAIRN_LISTEN") or host_port(code.defaults.get("listen", "127.0.0.1:7070"))
    http = addresses.get("CAIRN_HTTP") or (listen[0], code.defaults.get("http-port", 7080))
    resp = addresses.get("CAIRN_RESP")
    # Settings.checkProtectedMode
    if allow != "yes":
        exposed = [host for host in [http[0]] + ([resp[0]] if resp else []) if not is_loopback(host)]
        if exposed and not values.get("CAIRN_AUTH_FILE"):
            problems.add(where, f"protected mode: the client port listens on {exposed[0]}, beyond loopback, without CAIRN_AUTH_FILE: cairnd would refuse to start")
        if not is_loopback(listen[0]) and not values.get("CAIRN_SECRET_FILE"):
            problems.add(where, f"protected mode: the internode port listens on {listen[0]}, beyond loopback, without CAIRN_SECRET_FILE: cairnd would refuse to start")
    return {"listen": listen, "http": http, "resp": resp, "n": replicas, "w": w if w is not None else min(2, replicas)}


def check_names(where, names, code, problems, also=()):
    for name in names:
        if name.startswith("CAIRN_") and name not in code.settings and name not in also:
            problems.add(where, f"{name} is not a setting cairnd accepts (it reads {', '.join(sorted(code.settings))})")


# ---------------------------------------------------------------------------------------------
# Kubernetes


def check_kubernetes(root, code, problems, context):
    text = read(root, K8S, problems)
    if text is None:
        return
    try:
        documents = list(yaml.safe_load_all(text))
    except yaml.YAMLError as error:
        problems.add(K8S, f"does not parse as YAML: {error}")
        return
    objects = []
    for index, document in enumerate(documents, 1):
        if document is None:
            continue
        if not isinstance(document, dict):
            problems.add(K8S, f"document {index} is not a mapping")
            continue
        missing = [field for field in ("apiVersion", "kind") if not document.get(field)]
        name = (document.get("metadata") or {}).get("name")
        if missing or not name:
            problems.add(K8S, f"document {index} lacks {', '.join(missing + ([] if name else ['metadata.name']))}")
            continue
        objects.append(document)
    by_kind = {}
    for item in objects:
        by_kind.setdefault(item["kind"], []).append(item)
    named = {(item["kind"], item["metadata"]["name"]): item for item in objects}
    context["kinds"] = sorted(by_kind)
    context["objects"] = len(objects)
    for kind in ("Service", "StatefulSet", "PodDisruptionBudget", "ConfigMap"):
        if kind not in by_kind:
            problems.add(K8S, f"no {kind}")
    statefulsets = by_kind.get("StatefulSet", [])
    if len(statefulsets) != 1:
        if statefulsets:
            problems.add(K8S, f"{len(statefulsets)} StatefulSets; expected one")
        return
    sts = statefulsets[0]
    sts_name = sts["metadata"]["name"]
    where = f"{K8S}: StatefulSet {sts_name}"
    spec = sts.get("spec") or {}
    replicas = spec.get("replicas", 1)
    if not isinstance(replicas, int) or replicas < 1:
        problems.add(where, f"replicas {replicas!r} is not a positive number")
        replicas = 1
    context["replicas"] = replicas
    template = spec.get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    pod_spec = template.get("spec") or {}

    def pod_labels(ordinal):
        result = dict(labels)
        result[POD_NAME_LABEL] = f"{sts_name}-{ordinal}"
        result[POD_INDEX_LABEL] = str(ordinal)
        return result

    def selects(selector, ordinal):
        return all(pod_labels(ordinal).get(key) == value for key, value in (selector or {}).items())

    def check_label_selector(owner, selector):
        if not isinstance(selector, dict) or not selector.get("matchLabels"):
            problems.add(owner, "has no selector.matchLabels")
            return
        if selector.get("matchExpressions"):
            problems.add(owner, "selector.matchExpressions are not checked here: use matchLabels")
        if not selects(selector["matchLabels"], 0):
            problems.add(owner, f"selector {selector['matchLabels']} does not match the pod template's labels {labels}")

    check_label_selector(where, spec.get("selector"))
    policy = spec.get("podManagementPolicy")
    if policy != "OrderedReady":
        problems.add(where, f"podManagementPolicy is {policy!r}: start.sh lets cairn-0 create the cluster only when no other pod exists, which OrderedReady guarantees on a first deployment")

    containers = pod_spec.get("containers") or []
    container = next((c for c in containers if "cairn" in str(c.get("image", ""))), None)
    if container is None:
        problems.add(where, "no container runs a cairn image")
        return
    cwhere = f"{where}: container {container.get('name')}"

    # Ports
    ports = container.get("ports") or []
    port_by_name, port_by_number = {}, {}
    for port in ports:
        if not port.get("name"):
            problems.add(cwhere, f"container port {port.get('containerPort')} has no name")
        else:
            port_by_name[port["name"]] = port
        port_by_number[port.get("containerPort")] = port
    context["container_ports"] = sorted(p for p in port_by_number if isinstance(p, int))

    def container_port(reference):
        if isinstance(reference, int):
            return port_by_number.get(reference)
        if isinstance(reference, str) and reference.isdigit():
            return port_by_number.get(int(reference))
        return port_by_name.get(reference)

    # Environment
    env = container.get("env") or []
    values, defined = {}, []
    for entry in env:
        name = entry.get("name")
        if name in defined:
            problems.add(cwhere, f"env {name} is set twice")
        if "value" in entry:
            value = str(entry["value"])
            for reference in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", value):
                if reference not in defined:
                    problems.add(cwhere, f"env {name} refers to $({reference}), which no earlier env entry defines (Kubernetes leaves it unexpanded)")
            values[name] = value
        elif "valueFrom" in entry:
            field = ((entry["valueFrom"] or {}).get("fieldRef") or {}).get("fieldPath")
            if field is not None and field not in DOWNWARD_FIELDS:
                problems.add(cwhere, f"env {name} takes fieldRef {field}, which the downward API does not offer")
            values[name] = f"<{field or 'valueFrom'}>"
        else:
            problems.add(cwhere, f"env {name} has neither value nor valueFrom")
        defined.append(name)
    check_names(cwhere, defined, code, problems)
    cairn_values = {k: v for k, v in values.items() if k.startswith("CAIRN_")}
    expanded = {k: re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: m.group(1).lower().replace("_", "-"), v)
                for k, v in cairn_values.items()}
    facts = check_values(cwhere, expanded, code, problems)
    context["k8s_env"] = sorted(cairn_values)

    listen_text = cairn_values.get("CAIRN_LISTEN", "")
    listen = host_port(listen_text)
    internode = container_port(listen[1]) if listen else None
    if listen and internode is None:
        problems.add(cwhere, f"CAIRN_LISTEN port {listen[1]} is no container port")
    http_port = container_port(facts["http"][1])
    if http_port is None:
        problems.add(cwhere, f"the HTTP port {facts['http'][1]} (CAIRN_HTTP) is no container port")
    if facts["resp"] and container_port(facts["resp"][1]) is None:
        problems.add(cwhere, f"the Redis port {facts['resp'][1]} (CAIRN_RESP) is no container port")
    if facts["http"][0] in ("127.0.0.1", "localhost", "::1"):
        problems.add(cwhere, "CAIRN_HTTP listens on loopback only: the kubelet's probes and the client Service cannot reach it")

    # Services
    services = by_kind.get("Service", [])
    service_names = {s["metadata"]["name"]: s for s in services}
    for service in services:
        swhere = f"{K8S}: Service {service['metadata']['name']}"
        sspec = service.get("spec") or {}
        selector = sspec.get("selector")
        if not selector:
            problems.add(swhere, "has no selector")
        elif not any(selects(selector, i) for i in range(replicas)):
            problems.add(swhere, f"selector {selector} matches no pod of StatefulSet {sts_name} (labels {labels}, ordinals 0...{replicas - 1})")
        for port in sspec.get("ports") or []:
            if not port.get("name"):
                problems.add(swhere, f"port {port.get('port')} has no name")
            target = port.get("targetPort", port.get("port"))
            matched = container_port(target)
            if matched is None:
                problems.add(swhere, f"port {port.get('name')} has targetPort {target!r}, which is no container port of {container.get('name')} ({sorted(port_by_name)})")
            elif matched.get("protocol", "TCP") != port.get("protocol", "TCP"):
                problems.add(swhere, f"port {port.get('name')} is {port.get('protocol', 'TCP')}, the container port {matched.get('protocol', 'TCP')}")

    headless = service_names.get(spec.get("serviceName"))
    if headless is None:
        problems.add(where, f"serviceName {spec.get('serviceName')!r} names no Service in the file")
    else:
        hspec = headless.get("spec") or {}
        if hspec.get("clusterIP") != "None":
            problems.add(f"{K8S}: Service {headless['metadata']['name']}", "is the StatefulSet's serviceName but not headless (clusterIP: None)")
        if hspec.get("publishNotReadyAddresses") is not True:
            problems.add(f"{K8S}: Service {headless['metadata']['name']}", "needs publishNotReadyAddresses: true, so that pods are seen before they are ready")
    if not any((s.get("spec") or {}).get("clusterIP") == "None" for s in services):
        problems.add(K8S, "no headless Service (clusterIP: None)")
    client_services = [
        s for s in services
        if (s.get("spec") or {}).get("clusterIP") != "None"
        and POD_NAME_LABEL not in ((s.get("spec") or {}).get("selector") or {})
        and http_port is not None
        and any(container_port(p.get("targetPort", p.get("port"))) is http_port for p in (s.get("spec") or {}).get("ports") or [])
    ]
    if not client_services:
        problems.add(K8S, "no client Service routes to the HTTP port")

    def stable_address_service(host, port_number, owner):
        """The Service that a node's address host:port reaches, checked to forward the port to
        the internode container port."""
        service = service_names.get(host.split(".")[0])
        if service is None:
            problems.add(owner, f"{host}:{port_number}: no Service named {host.split('.')[0]} in the file")
            return None
        for port in (service.get("spec") or {}).get("ports") or []:
            if port.get("port") == port_number:
                if internode is not None and container_port(port.get("targetPort", port.get("port"))) is not internode:
                    problems.add(owner, f"{host}:{port_number}: Service {host} does not forward it to the internode port")
                return service
        problems.add(owner, f"{host}:{port_number}: Service {host.split('.')[0]} has no port {port_number}")
        return None

    if listen:
        if listen_text.startswith("$(POD_NAME)"):
            pod_name_entry = next((e for e in env if e.get("name") == "POD_NAME"), {})
            if ((pod_name_entry.get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath") != "metadata.name":
                problems.add(cwhere, "CAIRN_LISTEN uses $(POD_NAME), but POD_NAME is not the downward API's metadata.name")
            for ordinal in range(replicas):
                pod = f"{sts_name}-{ordinal}"
                service = stable_address_service(pod, listen[1], f"{cwhere}: CAIRN_LISTEN of pod {pod}")
                if service is None:
                    continue
                sspec = service.get("spec") or {}
                if (sspec.get("selector") or {}).get(POD_NAME_LABEL) != pod:
                    problems.add(f"{K8S}: Service {pod}", f"must select exactly pod {pod} ({POD_NAME_LABEL}: {pod}): it is that node's address")
                if sspec.get("clusterIP") == "None":
                    problems.add(f"{K8S}: Service {pod}", "must have a ClusterIP: its virtual IP is what makes the address stable")
                if sspec.get("publishNotReadyAddresses") is not True:
                    problems.add(f"{K8S}: Service {pod}", "needs publishNotReadyAddresses: true (a node is reached while it joins and while it hands off)")
        elif not re.fullmatch(r"[0-9.]+|\[?[0-9a-fA-F:]+\]?", listen[0]):
            problems.add(cwhere, f"CAIRN_LISTEN host {listen[0]} is neither $(POD_NAME) nor an IP address")
    seeds = [s.strip() for s in cairn_values.get("CAIRN_SEEDS", "").split(",") if s.strip()]
    if not seeds:
        problems.add(cwhere, "CAIRN_SEEDS is empty: no pod but the first could ever join")
    for seed in seeds:
        parsed = host_port(seed)
        if parsed is None:
            problems.add(cwhere, f"seed {seed} is not HOST:PORT")
            continue
        if listen and parsed[1] != listen[1]:
            problems.add(cwhere, f"seed {seed} is not on the internode port {listen[1]}")
        stable_address_service(parsed[0], parsed[1], f"{cwhere}: seed {seed}")

    # Probes
    scheme = "HTTPS" if cairn_values.get("CAIRN_CERTS_DIR") else "HTTP"
    for probe_name in ("readinessProbe", "livenessProbe", "startupProbe"):
        probe = container.get(probe_name)
        if probe is None:
            if probe_name != "startupProbe":
                problems.add(cwhere, f"no {probe_name}")
            continue
        get = probe.get("httpGet")
        if not get:
            problems.add(cwhere, f"{probe_name} is not an httpGet of /health")
            continue
        if get.get("path") != "/health":
            problems.add(cwhere, f"{probe_name} asks {get.get('path')!r}, not /health (the only path that needs no token)")
        if http_port is None or container_port(get.get("port")) is not http_port:
            problems.add(cwhere, f"{probe_name} asks port {get.get('port')!r}, not the HTTP port")
        if get.get("scheme", "HTTP") != scheme:
            problems.add(cwhere, f"{probe_name} uses {get.get('scheme', 'HTTP')}, but the HTTP port speaks {scheme}")

    # Volumes and mounts
    volumes = {v.get("name"): v for v in pod_spec.get("volumes") or []}
    claims = {(c.get("metadata") or {}).get("name"): c for c in spec.get("volumeClaimTemplates") or []}
    for name in set(volumes) & set(claims):
        problems.add(where, f"{name} is both a volume and a volumeClaimTemplate")
    mounts = container.get("volumeMounts") or []
    mount_paths = {}
    for mount in mounts:
        name = mount.get("name")
        if name not in volumes and name not in claims:
            problems.add(cwhere, f"volumeMount {name} (at {mount.get('mountPath')}) names no volume or volumeClaimTemplate")
        path = mount.get("mountPath")
        if path in mount_paths:
            problems.add(cwhere, f"two volumes mounted at {path}")
        mount_paths[path] = name
    used = {m.get("name") for m in mounts}
    for name in list(volumes) + list(claims):
        if name not in used:
            problems.add(where, f"volume {name} is declared but never mounted")

    def mount_of(path):
        best = None
        for mount_path, name in mount_paths.items():
            if path == mount_path or path.startswith(mount_path.rstrip("/") + "/"):
                if best is None or len(mount_path) > len(best[0]):
                    best = (mount_path, name)
        return best

    config_maps = {c["metadata"]["name"]: c for c in by_kind.get("ConfigMap", [])}
    secrets = {s["metadata"]["name"]: s for s in by_kind.get("Secret", [])}
    documented = set(re.findall(r"kubectl create secret generic ([a-z0-9.-]+)", text))
    documented_keys = set(re.findall(r"--from-(?:file|literal)=([A-Za-z0-9._-]+)=", text))
    scripts = {}  # mount path of a script -> its text
    for name, volume in volumes.items():
        vwhere = f"{where}: volume {name}"
        if "configMap" in volume:
            config_map = config_maps.get((volume["configMap"] or {}).get("name"))
            if config_map is None:
                problems.add(vwhere, f"ConfigMap {(volume['configMap'] or {}).get('name')} is not in the file")
                continue
            mount = next((m for m in mounts if m.get("name") == name), None)
            data = config_map.get("data") or {}
            items = (volume["configMap"] or {}).get("items")
            files = {i.get("path"): data.get(i.get("key")) for i in items} if items else data
            if mount:
                for key, body in files.items():
                    scripts[mount["mountPath"].rstrip("/") + "/" + key] = body
        if "secret" in volume:
            secret_name = (volume["secret"] or {}).get("secretName")
            if secret_name not in secrets and secret_name not in documented:
                problems.add(vwhere, f"Secret {secret_name} is neither in the file nor documented in it (`kubectl create secret generic {secret_name} ...`)")
            mode = (volume["secret"] or {}).get("defaultMode", 0o644)
            if mode & 0o007:
                problems.add(vwhere, f"defaultMode {oct(mode)} lets other users read the secret files")
            mount = next((m for m in mounts if m.get("name") == name), None)
            if mount:
                keys = set((secrets.get(secret_name) or {}).get("data") or {}) | set((secrets.get(secret_name) or {}).get("stringData") or {}) | documented_keys
                context["secret_mount"] = (mount["mountPath"].rstrip("/"), keys, secret_name)
    if not by_kind.get("Secret") and not documented:
        problems.add(K8S, "no Secret and no documented `kubectl create secret generic NAME` for the cluster secret and tokens")

    data_dir = cairn_values.get("CAIRN_DATA")
    if not data_dir:
        problems.add(cwhere, "no CAIRN_DATA")
    else:
        found = mount_of(data_dir)
        if found is None or found[1] not in claims:
            problems.add(cwhere, f"CAIRN_DATA={data_dir} is not on a volumeClaimTemplate: the node would lose its identity and data with the pod")
    pod_security = pod_spec.get("securityContext") or {}
    command_scripts = [arg for arg in (container.get("command") or []) + (container.get("args") or []) if arg in scripts]
    start_text = "\n".join(scripts[path] or "" for path in command_scripts)
    for name in ("CAIRN_SECRET_FILE", "CAIRN_AUTH_FILE", "CAIRN_CERTS_DIR", "CAIRN_CONFIG"):
        path = cairn_values.get(name)
        if not path:
            continue
        found = mount_of(path)
        if found is None:
            problems.add(cwhere, f"{name}={path} is on no mounted volume: the file does not exist in the container")
            continue
        volume = volumes.get(found[1]) or {}
        if "secret" in volume and name != "CAIRN_CONFIG":
            mode = (volume["secret"] or {}).get("defaultMode", 0o644)
            if mode & 0o077 or pod_security.get("fsGroup") is not None:
                problems.add(cwhere, f"{name}={path} is a Secret file that group or others may read (mode {oct(mode)}, fsGroup {pod_security.get('fsGroup')}): cairnd refuses it")
        elif "emptyDir" in volume and name not in start_text:
            problems.add(cwhere, f"{name}={path} is on an emptyDir, but the container's start script never writes it")

    # Scripts: the command and the preStop hook run scripts the ConfigMap defines, and use
    # only variables that are set.
    if not command_scripts and container.get("command"):
        if not str(container["command"][0]).endswith("cairnd"):
            problems.add(cwhere, f"command {container['command']} runs neither cairnd nor a script of the ConfigMap")
    hook = ((container.get("lifecycle") or {}).get("preStop") or {}).get("exec") or {}
    hook_command = hook.get("command") or []
    if not hook_command:
        problems.add(cwhere, "no preStop exec hook")
    hook_scripts = [arg for arg in hook_command if arg in scripts]
    if hook_command and not hook_scripts:
        problems.add(cwhere, f"the preStop hook {hook_command} runs no script of a mounted ConfigMap (scripts: {sorted(scripts) or 'none'})")
    grace = pod_spec.get("terminationGracePeriodSeconds", 30)
    if hook_scripts and ("cluster leave" in "".join(scripts[p] or "" for p in hook_scripts)) and grace < 300:
        problems.add(where, f"terminationGracePeriodSeconds {grace} leaves no time for a node that leaves to hand its partitions off")
    run_scripts = command_scripts + hook_scripts
    env_names = set(defined)
    for path in run_scripts:
        body = scripts[path] or ""
        check_script(f"{K8S}: script {path}", body, env_names, code, problems)
        if "secret_mount" in context:
            mount_path, keys, secret_name = context["secret_mount"]
            for key in re.findall(re.escape(mount_path) + r"/([A-Za-z0-9._-]+)", body):
                if key not in keys:
                    problems.add(f"{K8S}: script {path}", f"reads {mount_path}/{key}, but Secret {secret_name} has no key {key} (keys: {sorted(keys)})")
    context["scripts"] = {os.path.basename(p): scripts[p] or "" for p in run_scripts}

    # RBAC for the hook's read of the StatefulSet
    hook_text = "".join(scripts[p] or "" for p in hook_scripts)
    if "statefulsets" in hook_text:
        account = pod_spec.get("serviceAccountName")
        if pod_spec.get("automountServiceAccountToken") is False:
            problems.add(where, "the preStop hook reads the StatefulSet through the API, but automountServiceAccountToken is false")
        if ("ServiceAccount", account) not in named:
            problems.add(where, f"serviceAccountName {account!r} is no ServiceAccount in the file (the preStop hook reads the StatefulSet)")
        granted = False
        for binding in by_kind.get("RoleBinding", []):
            subjects = binding.get("subjects") or []
            if not any(s.get("kind") == "ServiceAccount" and s.get("name") == account for s in subjects):
                continue
            role = named.get(((binding.get("roleRef") or {}).get("kind"), (binding.get("roleRef") or {}).get("name")))
            for rule in (role or {}).get("rules") or []:
                if ("apps" in (rule.get("apiGroups") or []) and "statefulsets" in (rule.get("resources") or [])
                        and "get" in (rule.get("verbs") or [])
                        and (not rule.get("resourceNames") or sts_name in rule["resourceNames"])):
                    granted = True
        if not granted:
            problems.add(where, f"no Role bound to ServiceAccount {account!r} allows get on statefulsets/{sts_name}, which the preStop hook reads")

    # PodDisruptionBudget
    for pdb in by_kind.get("PodDisruptionBudget", []):
        pwhere = f"{K8S}: PodDisruptionBudget {pdb['metadata']['name']}"
        pspec = pdb.get("spec") or {}
        check_label_selector(pwhere, pspec.get("selector"))
        tolerable = facts["n"] - facts["w"]
        if tolerable < 1:
            problems.add(pwhere, f"with N={facts['n']} and W={facts['w']} a write needs every replica: no pod can be disrupted without failing writes")
        if "maxUnavailable" in pspec:
            value = pspec["maxUnavailable"]
            if not isinstance(value, int) or not 1 <= value <= max(1, tolerable):
                problems.add(pwhere, f"maxUnavailable {value!r}: with N={facts['n']} and W={facts['w']} at most {max(1, tolerable)} node may be down for every write to find W replicas")
        elif "minAvailable" in pspec:
            value = pspec["minAvailable"]
            if not isinstance(value, int) or replicas - value > max(1, tolerable) or value >= replicas:
                problems.add(pwhere, f"minAvailable {value!r} does not let exactly {max(1, tolerable)} of {replicas} pods go")
        else:
            problems.add(pwhere, "sets neither maxUnavailable nor minAvailable")

    # NetworkPolicy
    for policy_object in by_kind.get("NetworkPolicy", []):
        nwhere = f"{K8S}: NetworkPolicy {policy_object['metadata']['name']}"
        nspec = policy_object.get("spec") or {}
        if not selects(((nspec.get("podSelector") or {}).get("matchLabels")) or {}, 0):
            problems.add(nwhere, "podSelector does not match the pods")
        internode_from_pods = http_open = False
        for rule in nspec.get("ingress") or []:
            rule_ports = [container_port(p.get("port")) for p in rule.get("ports") or []]
            for p in rule.get("ports") or []:
                if container_port(p.get("port")) is None:
                    problems.add(nwhere, f"port {p.get('port')!r} is no container port")
            if internode is not None and internode in rule_ports:
                for source in rule.get("from") or [{}]:
                    if selects(((source.get("podSelector") or {}).get("matchLabels")) or {}, 0):
                        internode_from_pods = True
            if http_port is not None and http_port in rule_ports and not rule.get("from"):
                http_open = True
        if "Ingress" in (nspec.get("policyTypes") or ["Ingress"]):
            if not internode_from_pods:
                problems.add(nwhere, "does not let the cairn pods reach each other's internode port")
            if not http_open:
                problems.add(nwhere, "does not open the HTTP port to all (the kubelet's probes and clients)")

    context["k8s"] = {"statefulset": sts_name, "replicas": replicas, "image": container.get("image"),
                      "uses": [tool for tool in ("curl", "jq", "getent", "awk") if re.search(r"\b%s\b" % tool, "\n".join(scripts[p] or "" for p in run_scripts))]}


def check_script(where, body, env_names, code, problems):
    """A shell script of the ConfigMap: valid syntax (sh -n), CAIRN_* names cairnd or the CLI
    reads, and no variable used that neither the container's env nor the script sets."""
    shell = shutil.which("dash") or shutil.which("sh")
    if shell:
        result = subprocess.run([shell, "-n"], input=body, text=True, capture_output=True)
        if result.returncode != 0:
            problems.add(where, f"sh -n: {result.stderr.strip()}")
    without_comments = "\n".join(line.split(" #")[0] if not line.lstrip().startswith("#") else "" for line in body.splitlines())
    assigned = set(re.findall(r"(?:^|[\s;(])(?:export\s+|local\s+|readonly\s+)?([A-Za-z_][A-Za-z0-9_]*)=", without_comments, re.M))
    assigned |= set(re.findall(r"\bexport\s+(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*([A-Za-z_][A-Za-z0-9_]*)=", without_comments))
    assigned |= set(re.findall(r"\bfor\s+([A-Za-z_][A-Za-z0-9_]*)\s+in\b", without_comments))
    assigned |= set(re.findall(r"\bread\s+(?:-r\s+)?([A-Za-z_][A-Za-z0-9_]*)", without_comments))
    used, optional = set(), set()
    for match in re.finditer(r"\$\{([A-Za-z_][A-Za-z0-9_]*)([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)", without_comments):
        name = match.group(1) or match.group(3)
        modifier = match.group(2) or ""
        if modifier.startswith((":-", "-", ":+", "+", ":=", "=")):
            optional.add(name)  # a default is given: the script expects it may be unset
        used.add(name)
    used -= optional
    cairn_names = {n for n in re.findall(r"\b(CAIRN_[A-Z0-9_]+)\b", without_comments)}
    check_names(where, sorted(cairn_names), code, problems, also=code.cli_variables)
    for name in sorted(used - assigned - env_names - {"HOME", "PATH", "PWD", "IFS"}):
        problems.add(where, f"uses ${name}, which neither the container's env nor the script sets")


# ---------------------------------------------------------------------------------------------
# systemd


def parse_unit(text):
    sections, current = {}, None
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index].strip()
        index += 1
        while line.endswith("\\") and index < len(lines):
            line = line[:-1] + " " + lines[index].strip()
            index += 1
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            sections.setdefault(current, {})
            continue
        if "=" not in line or current is None:
            raise ValueError(f"line {index}: {line!r} is neither [Section] nor Key=Value")
        key, value = line.split("=", 1)
        sections[current].setdefault(key.strip(), []).append(value.strip())
    return sections


def seconds(text):
    if text in ("infinity",):
        return float("inf")
    total, matched = 0, False
    for number, unit in re.findall(r"(\d+)\s*(ms|min|s|h|m)?", text):
        matched = True
        total += int(number) * {"ms": 0.001, "s": 1, "min": 60, "m": 60, "h": 3600, None: 1, "": 1}[unit]
    return total if matched else None


def parse_env_file(text, where, problems):
    values, commented, order = {}, {}, []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            match = re.match(r"#\s*([A-Z][A-Z0-9_]*)=(.*)$", stripped)
            if match:
                commented[match.group(1)] = match.group(2)
            continue
        match = re.match(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)$", stripped)
        if not match:
            problems.add(where, f"line {number}: {stripped!r} is not NAME=value")
            continue
        name, value = match.groups()
        if name in values:
            problems.add(where, f"line {number}: {name} is set twice")
        if value[:1] in ("'", '"'):
            problems.add(where, f"line {number}: {name}'s value is quoted (docker --env-file keeps quotes)")
        if " #" in value or value.startswith("#"):
            problems.add(where, f"line {number}: {name}'s value holds a comment, which both readers keep as part of the value")
        values[name] = value
        order.append(name)
    return values, commented, order


def check_systemd(root, code, problems, context):
    env_text = read(root, ENV_EXAMPLE, problems)
    env_values, commented = {}, {}
    if env_text is not None:
        env_values, commented, order = parse_env_file(env_text, ENV_EXAMPLE, problems)
        for name in order:
            if not name.startswith("CAIRN_"):
                problems.add(ENV_EXAMPLE, f"{name} is not a CAIRN_ setting")
        check_names(ENV_EXAMPLE, order, code, problems)
        check_names(ENV_EXAMPLE + " (commented out)", sorted(commented), code, problems)
        for required in ("CAIRN_DATA", "CAIRN_LISTEN", "CAIRN_SEEDS", "CAIRN_CLUSTER", "CAIRN_SECRET_FILE", "CAIRN_AUTH_FILE",
                         "CAIRN_N", "CAIRN_R", "CAIRN_W"):
            if not env_values.get(required):
                problems.add(ENV_EXAMPLE, f"{required} is not set: a multi-host deployment needs it")
        present = {k: v for k, v in env_values.items() if v != ""}
        facts = check_values(ENV_EXAMPLE, present, code, problems)
        listen = facts["listen"]
        seeds = [s.strip() for s in env_values.get("CAIRN_SEEDS", "").split(",") if s.strip()]
        for seed in seeds:
            parsed = host_port(seed)
            if parsed is None:
                problems.add(ENV_EXAMPLE, f"seed {seed} is not HOST:PORT")
            elif parsed == listen:
                problems.add(ENV_EXAMPLE, f"seed {seed} is the node's own listen address")
        if len(set(seeds)) != len(seeds):
            problems.add(ENV_EXAMPLE, "CAIRN_SEEDS names an address twice")
        if seeds and len(seeds) + 1 < facts["n"]:
            problems.add(ENV_EXAMPLE, f"{len(seeds) + 1} nodes (this one and its seeds) is fewer than N={facts['n']}")
        context["env_example"] = {"settings": len(env_values), "nodes": len(seeds) + 1,
                                  "ports": [p for p in (listen[1], facts["http"][1], facts["resp"][1] if facts["resp"] else None) if p]}
    text = read(root, UNIT, problems)
    if text is None:
        return
    try:
        unit = parse_unit(text)
    except ValueError as error:
        problems.add(UNIT, f"does not parse: {error}")
        return
    for section in ("Unit", "Service", "Install"):
        if section not in unit:
            problems.add(UNIT, f"no [{section}] section")
    service = unit.get("Service", {})

    def one(key):
        values = service.get(key)
        return values[-1] if values else None

    exec_start = one("ExecStart")
    if not exec_start:
        problems.add(UNIT, "no ExecStart")
    else:
        binary = shlex.split(exec_start.lstrip("@-:+!"))[0]
        if not (binary.startswith("/") and binary.endswith("/cairnd")):
            problems.add(UNIT, f"ExecStart runs {binary}, not an absolute path to cairnd")
    environment_file = one("EnvironmentFile")
    if not environment_file:
        problems.add(UNIT, "no EnvironmentFile: cairnd takes its settings from CAIRN_* variables")
    elif os.path.basename(environment_file.lstrip("-")) + ".example" != os.path.basename(ENV_EXAMPLE):
        problems.add(UNIT, f"EnvironmentFile {environment_file} is not the file {ENV_EXAMPLE} is the example of")
    for key, value in (service.get("Environment") and [("Environment", v) for v in service["Environment"]] or []):
        check_names(UNIT, re.findall(r"(CAIRN_[A-Z0-9_]+)=", value), code, problems)
    user = one("User")
    if not user or user in ("root", "0"):
        problems.add(UNIT, f"User is {user!r}: run cairnd as a dedicated user")
    if one("KillSignal") not in ("SIGTERM", "TERM", "15"):
        problems.add(UNIT, f"KillSignal is {one('KillSignal')!r}: cairnd stops cleanly on SIGTERM")
    stop = seconds(one("TimeoutStopSec") or "")
    if stop is None or stop < 30:
        problems.add(UNIT, f"TimeoutStopSec {one('TimeoutStopSec')!r} does not cover a clean stop (5 s grace per client server, then flushing every engine)")
    if one("Restart") != "on-failure":
        problems.add(UNIT, f"Restart is {one('Restart')!r}, not on-failure")
    expected = {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "PrivateTmp": "yes"}
    for key, value in expected.items():
        if (one(key) or "").lower() not in (value, "true", "1") or (key == "ProtectSystem" and one(key) != "strict"):
            problems.add(UNIT, f"{key} is {one(key)!r}, not {value}")
    data = env_values.get("CAIRN_DATA")
    if data:
        writable = [p.lstrip("-+") for v in service.get("ReadWritePaths", []) for p in v.split()]
        writable += ["/var/lib/" + p for v in service.get("StateDirectory", []) for p in v.split()]
        if not any(data == p or data.startswith(p.rstrip("/") + "/") for p in writable):
            problems.add(UNIT, f"the data directory {data} (CAIRN_DATA) is not writable under ProtectSystem=strict: add it to ReadWritePaths")
    http_max = int(env_values.get("CAIRN_HTTP_MAX_CONNECTIONS") or code.defaults.get("http-max-connections", 4096))
    resp_max = int(env_values.get("CAIRN_RESP_MAX_CONNECTIONS") or code.defaults.get("resp-max-connections", 1024)) if env_values.get("CAIRN_RESP") else 0
    needed = http_max + resp_max + 1024
    limit = one("LimitNOFILE")
    limit_value = None
    if limit:
        limit_value = float("inf") if limit == "infinity" else int(limit.split(":")[-1]) if limit.split(":")[-1].isdigit() else None
    if limit_value is None or limit_value < needed:
        problems.add(UNIT, f"LimitNOFILE {limit!r} is below {needed}: {http_max} HTTP and {resp_max} Redis connections, plus internode links, lock files and data files")
    if not unit.get("Install", {}).get("WantedBy"):
        problems.add(UNIT, "[Install] has no WantedBy")
    context["unit"] = {"user": user, "exec": exec_start}


# ---------------------------------------------------------------------------------------------
# Dockerfile


def parse_dockerfile(text):
    """Instructions as (keyword, arguments, heredoc bodies, line), with continuation lines
    joined, comments dropped and heredoc bodies attached to their instruction."""
    lines = text.splitlines()
    instructions, index = [], 0
    while index < len(lines):
        raw = lines[index]
        start = index + 1
        index += 1
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        line = raw.rstrip()
        while line.endswith("\\"):
            line = line[:-1]
            while index < len(lines) and lines[index].lstrip().startswith("#"):
                index += 1
            if index >= len(lines):
                break
            line += " " + lines[index].strip()
            index += 1
        bodies = []
        for marker in re.findall(r"<<-?['\"]?([A-Za-z_][A-Za-z0-9_]*)['\"]?", line):
            body = []
            while index < len(lines) and lines[index].strip() != marker:
                body.append(lines[index])
                index += 1
            index += 1
            bodies.append("\n".join(body))
        keyword, _, arguments = line.strip().partition(" ")
        instructions.append((keyword.upper(), arguments.strip(), bodies, start))
    return instructions


def substitute(text, variables):
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)",
                  lambda m: variables.get(m.group(1) or m.group(3), m.group(2) or ""), text)


def image_parts(reference):
    name, _, tag = reference.partition(":")
    for prefix in ("docker.io/library/", "docker.io/", "library/"):
        if name.startswith(prefix):
            name = name[len(prefix):]
    return name, tag or "latest"


def exec_form(arguments):
    try:
        value = json.loads(arguments)
        if isinstance(value, list):
            return [str(v) for v in value]
    except ValueError:
        pass
    return shlex.split(arguments)


def check_dockerfile(root, code, problems, context):
    text = read(root, DOCKERFILE, problems)
    if text is None:
        return
    instructions = parse_dockerfile(text)
    arguments_before, stages = {}, []
    for keyword, arguments, bodies, line in instructions:
        if keyword == "FROM":
            reference = substitute(arguments.split()[0], arguments_before)
            alias = arguments.split()[2] if len(arguments.split()) >= 3 and arguments.split()[1].upper() == "AS" else None
            stages.append({"image": reference, "name": alias, "steps": [], "line": line})
        elif not stages:
            if keyword == "ARG":
                name, _, default = arguments.partition("=")
                arguments_before[name.strip()] = default.strip()
            else:
                problems.add(DOCKERFILE, f"line {line}: {keyword} before the first FROM")
        else:
            stages[-1]["steps"].append((keyword, arguments, bodies, line))
    if len(stages) < 2:
        problems.add(DOCKERFILE, f"{len(stages)} stage(s): expected a Swift build stage and a runtime stage")
        return
    build = next((s for s in stages if image_parts(s["image"])[0] == "swift"), None)
    if build is None:
        problems.add(DOCKERFILE, "no stage is built FROM the official swift image")
        return
    runtime = stages[-1]
    if runtime is build:
        problems.add(DOCKERFILE, "the last stage is the Swift build stage: the image would carry the whole toolchain")
        return
    swift_tag = image_parts(build["image"])[1]
    version_text, _, codename = swift_tag.partition("-")
    version = version_tuple(version_text)
    if code.tools_version and version and version[: len(code.tools_version)] < code.tools_version:
        problems.add(DOCKERFILE, f"the build image {build['image']} is older than Package.swift's swift-tools-version {'.'.join(map(str, code.tools_version))}")
    runtime_name, runtime_tag = image_parts(runtime["image"])
    if codename in RELEASES:
        family, number = RELEASES[codename]
        if runtime_name != family or runtime_tag not in (codename, number) and not runtime_tag.startswith(codename + "-"):
            problems.add(DOCKERFILE, f"the runtime image {runtime['image']} is not {family}:{codename} ({number}), the base of {build['image']}: the binaries need the glibc they were linked against")
    elif runtime_name not in ("ubuntu", "debian"):
        problems.add(DOCKERFILE, f"the runtime image {runtime['image']} is neither Ubuntu nor Debian")

    def runs(stage):
        return [a for k, a, _, _ in stage["steps"] if k == "RUN"]

    built = {}
    for command in re.split(r"&&|;|\|\|", " ".join(runs(build))):
        words = command.split()
        if "swift" in words and "build" in words and "--product" in words:
            product = words[words.index("--product") + 1] if words.index("--product") + 1 < len(words) else ""
            built[product] = command
    for product in ("cairnd", "cairn"):
        command = built.get(product)
        if command is None:
            problems.add(DOCKERFILE, f"the build stage does not run `swift build --product {product}`")
            continue
        for flag in ("-c release", "--static-swift-stdlib"):
            if flag not in " ".join(command.split()):
                problems.add(DOCKERFILE, f"`swift build --product {product}` runs without {flag}")
    installed = set(re.findall(r"[a-z0-9][a-z0-9.+-]+", " ".join(r.split("install", 1)[1] for r in runs(build) if "apt-get install" in r)))
    for package in code.apt_packages:
        if package not in installed:
            problems.add(DOCKERFILE, f"the build stage does not install {package} (Package.swift's system library targets need it)")
    runtime_installed = set(re.findall(r"[a-z0-9][a-z0-9.+-]+", " ".join(r.split("install", 1)[1] for r in runs(runtime) if "apt-get install" in r)))
    steps = runtime["steps"]
    copies = [a for k, a, _, _ in steps if k == "COPY" and re.search(r"--from=%s\b" % re.escape(build["name"] or "0"), a)]
    if not any("/usr/local/bin" in c for c in copies):
        problems.add(DOCKERFILE, "the runtime stage copies no binaries from the build stage to /usr/local/bin")
    users = [a for k, a, _, _ in steps if k == "USER"]
    if not users:
        problems.add(DOCKERFILE, "the runtime stage sets no USER: cairnd would run as root")
    elif users[-1].split(":")[0] in ("root", "0"):
        problems.add(DOCKERFILE, f"USER {users[-1]} is root")
    files = {}
    for keyword, arguments, bodies, _ in steps:
        if keyword == "COPY" and bodies:
            files[arguments.split()[-1]] = bodies[0]
    health = [a for k, a, _, _ in steps if k == "HEALTHCHECK"]
    if not health:
        problems.add(DOCKERFILE, "no HEALTHCHECK")
    elif health[-1].strip().upper() == "NONE":
        problems.add(DOCKERFILE, "HEALTHCHECK NONE")
    else:
        command = health[-1].split("CMD", 1)[1] if "CMD" in health[-1] else ""
        words = exec_form(command.strip()) if command.strip() else []
        checked = command + "".join(files.get(w, "") for w in words)
        if "/health" not in checked:
            problems.add(DOCKERFILE, "the HEALTHCHECK does not ask /health")
        for tool in ("curl", "wget"):
            if re.search(r"\b%s\b" % tool, checked) and tool not in runtime_installed:
                problems.add(DOCKERFILE, f"the HEALTHCHECK uses {tool}, which the runtime stage does not install")
    exposed = set()
    for arguments in [a for k, a, _, _ in steps if k == "EXPOSE"]:
        for word in arguments.split():
            exposed.add(int(word.split("/")[0]))
    wanted = set(context.get("container_ports", [])) | set((context.get("env_example") or {}).get("ports", []))
    for port in sorted(wanted - exposed):
        problems.add(DOCKERFILE, f"EXPOSE lacks {port}, a port the manifests or the env example use")
    entry = [a for k, a, _, _ in steps if k == "ENTRYPOINT"]
    if not entry or not exec_form(entry[-1]) or not exec_form(entry[-1])[0].endswith("cairnd"):
        problems.add(DOCKERFILE, f"ENTRYPOINT is {entry[-1] if entry else None!r}, not cairnd")
    env_names = []
    env_values = {}
    for keyword, arguments, _, _ in steps:
        if keyword == "ENV":
            for name, value in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=(\S+)", arguments):
                env_names.append(name)
                env_values[name] = value
    check_names(DOCKERFILE, env_names, code, problems)
    volumes = " ".join(a for k, a, _, _ in steps if k == "VOLUME")
    if env_values.get("CAIRN_DATA") and env_values["CAIRN_DATA"] not in volumes:
        problems.add(DOCKERFILE, f"CAIRN_DATA={env_values['CAIRN_DATA']} is not a VOLUME")
    for tool in (context.get("k8s") or {}).get("uses", []):
        if tool in ("curl", "jq") and tool not in runtime_installed:
            problems.add(DOCKERFILE, f"the Kubernetes scripts use {tool}, which the runtime stage does not install")
    image = (context.get("k8s") or {}).get("image") or ""
    if image and not image_parts(image)[0].endswith("cairn"):
        problems.add(K8S, f"the container image {image} is not the cairn image of {DOCKERFILE}")
    context["docker"] = {"stages": len(stages), "build": build["image"], "runtime": runtime["image"], "exposed": sorted(exposed)}


# ---------------------------------------------------------------------------------------------
# docs/deployment.md


def check_docs(root, problems, context):
    text = read(root, DOCS, problems)
    if text is None:
        return
    for number, line in enumerate(text.splitlines(), 1):
        for target in re.findall(r"\]\(([^)\s]+)\)", line):
            if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I):
                problems.add(DOCS, f"line {number}: links outside the repository ({target})")
                continue
            path = target.split("#")[0]
            if path and not os.path.exists(os.path.normpath(os.path.join(root, "docs", path))):
                problems.add(DOCS, f"line {number}: link to {path}, which does not exist")
        for url in re.findall(r"<(https?://[^>]+)>", line):
            problems.add(DOCS, f"line {number}: links outside the repository ({url})")
    if "docker build -f Scripts/deploy/Dockerfile" not in text:
        problems.add(DOCS, "does not show `docker build -f Scripts/deploy/Dockerfile .`")
    context["docs_lines"] = len(text.splitlines())


# ---------------------------------------------------------------------------------------------


def run_checks(root):
    problems, context = Problems(), {}
    code = Code(root, problems)
    if not code.settings:
        return problems, context
    check_kubernetes(root, code, problems, context)
    check_systemd(root, code, problems, context)
    check_dockerfile(root, code, problems, context)
    check_docs(root, problems, context)
    context["settings"] = len(code.settings)
    return problems, context


def summary(context):
    return (
        f"check-deploy: ok: {context.get('objects', 0)} Kubernetes objects ({', '.join(context.get('kinds', []))}), "
        f"{context.get('replicas')} pods; systemd unit; env example ({(context.get('env_example') or {}).get('settings')} settings, "
        f"{(context.get('env_example') or {}).get('nodes')} nodes); Dockerfile ({(context.get('docker') or {}).get('stages')} stages); "
        f"every CAIRN_* name among the {context.get('settings')} cairnd accepts"
    )


# Each mutation breaks one thing in a copy of the files; the check must report a problem
# containing `expect`.
MUTATIONS = [
    ("StatefulSet serviceName names no Service", K8S, "serviceName: cairn-internal", "serviceName: cairn-headless", "serviceName"),
    ("headless Service given a cluster IP", K8S, "  clusterIP: None\n", "  clusterIP: 10.96.0.10\n", "headless"),
    ("Service targetPort renamed", K8S, "      port: 7080\n      targetPort: http", "      port: 7080\n      targetPort: web", "targetPort"),
    ("readiness probe path", K8S, "          readinessProbe:\n            httpGet:\n              path: /health",
     "          readinessProbe:\n            httpGet:\n              path: /healthz", "not /health"),
    ("liveness probe on the internode port", K8S, "          livenessProbe:\n            httpGet:\n              path: /health\n              port: http",
     "          livenessProbe:\n            httpGet:\n              path: /health\n              port: internode", "not the HTTP port"),
    ("preStop runs a script the ConfigMap lacks", K8S, '"/etc/cairn/scripts/pre-stop.sh"]', '"/etc/cairn/scripts/prestop.sh"]', "preStop"),
    ("ConfigMap key of the preStop script renamed", K8S, "  pre-stop.sh: |", "  prestop.sh: |", "preStop"),
    ("misspelt cairnd setting in the StatefulSet", K8S, "- name: CAIRN_SECRET_FILE", "- name: CAIRN_SECRETS_FILE", "CAIRN_SECRETS_FILE is not a setting"),
    ("volumeMount of an undeclared volume", K8S, "            - name: scripts\n              mountPath", "            - name: script\n              mountPath", "names no volume"),
    ("PDB lets two pods go", K8S, "  maxUnavailable: 1", "  maxUnavailable: 2", "maxUnavailable"),
    ("pod template label no longer matches the selectors", K8S, "        app.kubernetes.io/instance: cairn\n        app.kubernetes.io/component: node",
     "        app.kubernetes.io/instance: cairn-blue\n        app.kubernetes.io/component: node", "selector"),
    ("seed naming a Service that does not exist", K8S, "cairn-4:7070\"", "cairn-9:7070\"", "no Service named cairn-9"),
    ("per-pod Service removed", K8S, "  name: cairn-3\n", "  name: cairn-three\n", "no Service named cairn-3"),
    ("secret volume readable by others", K8S, "defaultMode: 0440", "defaultMode: 0444", "other users"),
    ("YAML syntax error", K8S, "kind: PodDisruptionBudget\nmetadata:", "kind: PodDisruptionBudget\nmetadata: [", "does not parse"),
    ("shell syntax error in start.sh", K8S, "    if [ -e \"$CAIRN_DATA/node.id\" ]; then", "    if [ -e \"$CAIRN_DATA/node.id\" ]; them", "sh -n"),
    ("script uses a variable nothing sets", K8S, "namespaces/$POD_NAMESPACE/statefulsets", "namespaces/$POD_NAMESPAC/statefulsets", "POD_NAMESPAC"),
    ("Role no longer grants get on the StatefulSet", K8S, '    verbs: ["get"]', '    verbs: ["list"]', "allows get"),
    ("data directory off the volume claim", K8S, "              value: /data/node", "              value: /var/lib/cairn", "volumeClaimTemplate"),
    ("HTTP on loopback only", K8S, 'value: "0.0.0.0:7080"', 'value: "127.0.0.1:7080"', "loopback"),
    ("start script reads a Secret key that is not there", K8S, "private_copy /etc/cairn/secrets/tokens", "private_copy /etc/cairn/secrets/token ", "no key token"),
    ("W equal to N under a disruption budget", K8S, '- name: CAIRN_W\n              value: "2"', '- name: CAIRN_W\n              value: "3"', "needs every replica"),
    ("Parallel pod management", K8S, "podManagementPolicy: OrderedReady", "podManagementPolicy: Parallel", "podManagementPolicy"),
    ("cairnd stops accepting auth-file (Settings.swift)", SETTINGS, '"auth-file", ', "", "CAIRN_AUTH_FILE is not a setting"),
    ("systemd unit without [Install]", UNIT, "[Install]\nWantedBy=multi-user.target\n", "", "[Install]"),
    ("systemd ExecStart runs something else", UNIT, "ExecStart=/usr/local/bin/cairnd", "ExecStart=/usr/bin/true", "ExecStart"),
    ("systemd unit runs as root", UNIT, "User=cairn", "User=root", "User"),
    ("systemd unit without ProtectSystem=strict", UNIT, "ProtectSystem=strict", "ProtectSystem=full", "ProtectSystem"),
    ("systemd LimitNOFILE too low", UNIT, "LimitNOFILE=65536", "LimitNOFILE=1024", "LimitNOFILE"),
    ("env example: misspelt setting", ENV_EXAMPLE, "CAIRN_LISTEN=", "CAIRN_LISTEN_ADDR=", "CAIRN_LISTEN_ADDR is not a setting"),
    ("env example: no cluster secret (protected mode)", ENV_EXAMPLE, "CAIRN_SECRET_FILE=/etc/cairn/cluster-secret\n", "", "protected mode"),
    ("env example: data directory outside the unit's writable paths", ENV_EXAMPLE, "CAIRN_DATA=/var/lib/cairn", "CAIRN_DATA=/srv/cairn", "ReadWritePaths"),
    ("env example: misspelt commented-out setting", ENV_EXAMPLE, "#CAIRN_CORES=4", "#CAIRN_CORE=4", "CAIRN_CORE is not a setting"),
    ("Dockerfile runs as root", DOCKERFILE, "USER 10001:10001", "USER root", "USER"),
    ("Dockerfile without HEALTHCHECK", DOCKERFILE, "HEALTHCHECK --interval", "# HEALTHCHECK --interval", "HEALTHCHECK"),
    ("Dockerfile does not expose the Redis port", DOCKERFILE, "EXPOSE 7070 7080 6379", "EXPOSE 7070 7080", "EXPOSE lacks 6379"),
    ("Dockerfile entrypoint is a shell", DOCKERFILE, 'ENTRYPOINT ["/usr/local/bin/cairnd"]', 'ENTRYPOINT ["/bin/sh"]', "ENTRYPOINT"),
    ("Dockerfile builds without the static Swift runtime", DOCKERFILE,
     'swift build -c release --static-swift-stdlib ${CAIRN_TRAITS:+--traits "$CAIRN_TRAITS"} --product cairnd',
     'swift build -c release ${CAIRN_TRAITS:+--traits "$CAIRN_TRAITS"} --product cairnd', "static-swift-stdlib"),
    ("Dockerfile runtime on another release than the build image", DOCKERFILE, "FROM ubuntu:${UBUNTU_CODENAME} AS runtime", "FROM ubuntu:22.04 AS runtime", "glibc"),
    ("Dockerfile runtime without jq", DOCKERFILE, "ca-certificates curl jq", "ca-certificates curl", "jq"),
    ("docs link outside the repository", DOCS, "\n## ", "\nSee [a site](https://example.com/page).\n\n## ", "outside the repository"),
]


def self_test(source_root):
    copied = [K8S, UNIT, ENV_EXAMPLE, DOCKERFILE, SETTINGS, CLI_OPTIONS, PACKAGE]
    failures = 0
    with tempfile.TemporaryDirectory(prefix="check-deploy-") as scratch:
        def fresh(name):
            root = os.path.join(scratch, name)
            for relative in copied:
                os.makedirs(os.path.dirname(os.path.join(root, relative)), exist_ok=True)
                shutil.copyfile(os.path.join(source_root, relative), os.path.join(root, relative))
            shutil.copytree(os.path.join(source_root, "docs"), os.path.join(root, "docs"))
            return root

        problems, _ = run_checks(fresh("unchanged"))
        if len(problems):
            print("self-test: the unchanged files already fail:", file=sys.stderr)
            for item in problems.items:
                print("  " + item, file=sys.stderr)
            return 1
        for index, (title, relative, old, new, expect) in enumerate(MUTATIONS):
            root = fresh(f"mutation-{index}")
            path = os.path.join(root, relative)
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
            if old not in text:
                print(f"self-test: FAILED {title}: the mutation does not apply ({old!r} not in {relative})", file=sys.stderr)
                failures += 1
                continue
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text.replace(old, new, 1))
            problems, _ = run_checks(root)
            caught = [item for item in problems.items if expect in item]
            if caught:
                print(f"self-test: caught  {title}: {caught[0]}")
            else:
                failures += 1
                print(f"self-test: FAILED {title}: no problem mentions {expect!r} ({problems.items or 'no problems at all'})", file=sys.stderr)
    print(f"self-test: {len(MUTATIONS) - failures} passed, {failures} failed")
    return 1 if failures else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--root", default=default_root, help="the repository to check (default: the one holding this script)")
    parser.add_argument("--self-test", action="store_true", help="break copies of the files on purpose and check that each break is caught")
    options = parser.parse_args()
    if options.self_test:
        return self_test(options.root)
    problems, context = run_checks(options.root)
    if len(problems):
        for item in problems.items:
            print(f"check-deploy: {item}", file=sys.stderr)
        print(f"check-deploy: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(summary(context))
    return 0


if __name__ == "__main__":
    sys.exit(main())
