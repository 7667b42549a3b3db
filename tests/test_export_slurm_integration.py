"""The Slurm tree export against a real slurmctld: every switch, its children and nodes.

Starts munged (own key and socket) and ``slurmctld -D -i`` on loopback in a
temporary directory with ``TopologyPlugin=topology/tree`` and the exported
topology.conf, then compares ``scontrol show topology`` (host lists expanded
by ``scontrol show hostnames``) with :func:`fabric.hierarchy.network_tree`.
Skips, saying why, only when the Slurm or MUNGE binaries are not installed
(``.ci/run`` installs them on Debian).
"""

import getpass
import os
import shutil
import socket
import subprocess
import time

import pytest

import topologies
from fabric.export import export, hierarchy
from fabric.export.hosts import compress_hostlist, host_names

BINARIES = ("slurmctld", "scontrol", "munged")
MISSING = [b for b in BINARIES if shutil.which(b) is None]

pytestmark = pytest.mark.skipif(
    bool(MISSING), reason=f"Slurm is not installed here (missing {', '.join(MISSING)}; "
                          f"Debian: apt-get install slurmctld slurm-client munge)")


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def slurm_dir(tmp_path):
    d = tmp_path / "slurm"
    d.mkdir(mode=0o755)
    for sub in ("state", "spool"):
        (d / sub).mkdir()
    key = d / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o600)
    sock = d / "munge.sock"
    munged = subprocess.Popen(
        ["munged", "--foreground", "--force", f"--key-file={key}", f"--socket={sock}",
         f"--log-file={d / 'munged.log'}", f"--pid-file={d / 'munged.pid'}",
         f"--seed-file={d / 'munged.seed'}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 10
    while not sock.exists():
        if munged.poll() is not None or time.monotonic() > deadline:
            _stop(munged)
            pytest.fail(f"munged did not start:\n{munged.stdout.read()}")
        time.sleep(0.05)
    yield d, sock
    _stop(munged)


def _slurm_conf(d, sock, hosts):
    ctld_port, slurmd_port = _free_ports(2)
    user = getpass.getuser()
    nodes = compress_hostlist(hosts)
    text = f"""\
ClusterName=fabrictest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
AuthType=auth/munge
AuthInfo=socket={sock}
CredType=cred/munge
SlurmUser={user}
SlurmdUser={user}
StateSaveLocation={d / 'state'}
SlurmdSpoolDir={d / 'spool'}
SlurmctldPidFile={d / 'slurmctld.pid'}
SlurmctldLogFile={d / 'slurmctld.log'}
SlurmctldDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
MpiDefault=none
ReturnToService=2
TopologyPlugin=topology/tree
NodeName={nodes} NodeAddr=127.0.0.1 CPUs=1 State=UNKNOWN
PartitionName=all Nodes=ALL Default=YES State=UP
"""
    (d / "slurm.conf").write_text(text)
    return d / "slurm.conf"


def _scontrol(conf, *args):
    env = {**os.environ, "SLURM_CONF": str(conf)}
    return subprocess.run(["scontrol", *args], env=env, capture_output=True, text=True,
                          timeout=30)


def _parse_topology(text):
    switches = {}
    for line in text.split("SwitchName=")[1:]:
        fields = dict(kv.split("=", 1) for kv in ("SwitchName=" + line).split() if "=" in kv)
        switches[fields["SwitchName"]] = fields
    return switches


@pytest.mark.parametrize("preset,params", [
    ("fat-tree", {"k": "4"}),                       # 3 tiers: leaves, spine groups, cores
    ("superpod-gb200", {"racks": "2"}),             # rails across racks: scattered host lists
    ("superpod-b200", {}),                          # rail-optimized SUs: leaf groups
])
def test_slurmctld_reads_tree(slurm_dir, preset, params):
    d, sock = slurm_dir
    G = topologies.build_preset(preset, params)
    tree = hierarchy.network_tree(G)
    hosts = list(host_names(G).values())
    export(G, d / "topology.conf", "slurm-tree")
    conf = _slurm_conf(d, sock, hosts)
    ctld = subprocess.Popen(["slurmctld", "-D", "-i", "-f", str(conf)],
                            env={**os.environ, "SLURM_CONF": str(conf)},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            out = _scontrol(conf, "show", "topology")
            if out.returncode == 0 and "SwitchName=" in out.stdout:
                break
            if ctld.poll() is not None or time.monotonic() > deadline:
                _stop(ctld)
                log = (d / "slurmctld.log").read_text() if (d / "slurmctld.log").exists() else ""
                pytest.fail(f"slurmctld did not answer:\n{out.stderr}\n{ctld.stdout.read()}\n"
                            f"{log[-3000:]}")
            time.sleep(0.2)
        shown = _parse_topology(out.stdout)
    finally:
        _stop(ctld)

    def expand(expr):
        if not expr or expr == "(null)":
            return set()
        res = _scontrol(conf, "show", "hostnames", expr)
        assert res.returncode == 0, res.stderr
        return set(res.stdout.split())

    by_name = {s["name"]: s for s in tree}

    def below(s):
        out = set(s["hosts"])
        for c in s["switches"]:
            out |= below(by_name[c])
        return out

    assert set(shown) == set(by_name)
    for name, s in by_name.items():
        got = shown[name]
        assert expand(got.get("Switches")) == set(s["switches"]), name
        assert expand(got.get("Nodes")) == below(s), name
    roots = [s for s in tree if s["parent"] is None]
    assert len(roots) == 1 and below(roots[0]) == set(hosts)
