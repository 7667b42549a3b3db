"""User inputs of placement: busy GPUs (from a file, at random, or both) and job-queue files.

:func:`busy` is the one entry point for the busy set of a cluster; it checks
its own arguments and uses :func:`load_busy_file` and :func:`random_busy`.
:func:`load_jobs_file` reads the queue of :func:`solvers.placement.place_queue`.
"""

import math
import numbers
import random
from collections import defaultdict

from fabric.exceptions import ParameterError
from fabric.io import read_json_input
from fabric.locality import gpu_nodes
from solvers.placement.problem import _make_job

__all__ = ["busy", "load_busy_file", "load_jobs_file", "random_busy"]


def load_busy_file(path, G):
    """Busy GPUs from a JSON file: a list of GPU names or ``{"busy": [...]}``.

    Raises
    ------
    ParameterError
        Unreadable or malformed file, or a name that is not a GPU of ``G``.

    Examples
    --------
    >>> import json, tempfile, topologies
    >>> G = topologies.dgx_h100_graph()
    >>> with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
    ...     json.dump({"busy": ["d0-gpu0"]}, f)
    >>> sorted(load_busy_file(f.name, G))
    ['d0-gpu0']
    """
    data = read_json_input(path, option="--busy", fix='write ["gpu", ...] or {"busy": [...]}')
    if isinstance(data, dict):
        data = data.get("busy")
    if not isinstance(data, list):
        msg = f'busy file `{path}` must hold a list of GPU names or {{"busy": [...]}}'
        raise ParameterError(msg)
    kinds = G.nodes
    bad = [g for g in data if not isinstance(g, str) or g not in kinds
           or kinds[g].get("kind") != "gpu"]
    if bad:
        example = ", ".join(gpu_nodes(G)[:2])
        msg = (f"busy file `{path}` names {len(bad):,} unknown GPU(s), e.g. {bad[0]!r} "
               f"(GPUs of this fabric look like {example})")
        raise ParameterError(msg)
    return frozenset(data)


def random_busy(G, fraction, *, seed=0):
    """Mark a seeded random ``fraction`` of the hosts busy; return their GPUs.

    Raises
    ------
    ParameterError
        When ``fraction`` is outside [0, 1].

    Examples
    --------
    >>> import topologies
    >>> len(random_busy(topologies.build_preset("superpod-h100"), 0.5, seed=1))
    128
    """
    if not 0 <= fraction <= 1:
        msg = f"`busy_fraction` must be between 0 and 1, got {fraction}"
        raise ParameterError(msg)
    by_host = defaultdict(list)
    for g in gpu_nodes(G):
        by_host[G.nodes[g].get("host", g)].append(g)
    hosts = list(by_host)
    k = round(fraction * len(hosts))
    chosen = random.Random(seed).sample(hosts, k)
    return frozenset(g for h in chosen for g in by_host[h])


def busy(G, *, file=None, fraction=None, seed=0):
    """The busy GPUs of a cluster: from a busy file, a random fraction of hosts, or both.

    Parameters
    ----------
    G
        A fabric graph.
    file : str or path, optional
        A busy file (see :func:`load_busy_file`).
    fraction : float, optional
        Share of hosts marked busy at random (see :func:`random_busy`); a
        finite number in [0, 1].
    seed
        Seed of the random hosts.

    Returns
    -------
    frozenset of str
        The GPUs of the file, the random ones, or both united; empty when
        neither ``file`` nor ``fraction`` is given.

    Raises
    ------
    ParameterError
        ``fraction`` not a finite number in [0, 1] (the message names
        ``fraction`` and its option ``--busy-fraction``), or a bad busy file.

    Examples
    --------
    >>> import topologies
    >>> G = topologies.build_preset("superpod-h100")
    >>> len(busy(G)), len(busy(G, fraction=0.25, seed=1))
    (0, 64)
    """
    if fraction is not None and (isinstance(fraction, bool)
                                 or not isinstance(fraction, numbers.Real)
                                 or not math.isfinite(fraction) or not 0 <= fraction <= 1):
        msg = (f"`fraction` (--busy-fraction) must be a finite number in [0, 1], "
               f"got {fraction!r}")
        raise ParameterError(msg)
    out = frozenset()
    if file is not None:
        out |= load_busy_file(file, G)
    if fraction is not None:
        out |= random_busy(G, fraction, seed=seed)
    return out


_JOB_KEYS = {"name": str, "gpus": int, "tp": int, "pp": int, "dp": int, "ep": int,
             "model_params": float}


def load_jobs_file(path):
    """A job queue from a JSON file: a list of ``{"name", "gpus", "tp", "pp", "dp", "ep",
    "model_params"}`` objects.

    ``tp`` is required, and ``gpus`` or ``dp``; ``pp`` and ``ep`` default to
    1, ``name`` to ``job<i>``; ``model_params`` (> 0) derives the traffic.

    Returns
    -------
    list of dict
        Keyword arguments of :func:`solvers.placement.place_job` plus ``name``.

    Raises
    ------
    ParameterError
        Unreadable file, not a list, or a job with an unknown key, a missing
        key, a value of the wrong type or out of bounds, or ``gpus != tp*pp*dp``;
        the message names the job (index and name) and the key.

    Examples
    --------
    >>> import json, tempfile
    >>> with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
    ...     json.dump([{"name": "a", "gpus": 16, "tp": 8}], f)
    >>> load_jobs_file(f.name)
    [{'name': 'a', 'gpus': 16, 'tp': 8, 'pp': 1, 'ep': 1}]
    """
    data = read_json_input(path, option="--jobs", fix="write a list of job objects")
    if not isinstance(data, list) or not data:
        msg = (f'jobs file `{path}` must hold a non-empty list of jobs like {{"name": "a", '
               '"gpus": 64, "tp": 8, "pp": 2}')
        raise ParameterError(msg)
    jobs = []
    for i, spec in enumerate(data):
        where = f"jobs file `{path}`, job {i}"
        if not isinstance(spec, dict):
            msg = f"{where}: must be an object, got {type(spec).__name__}"
            raise ParameterError(msg)
        if isinstance(spec.get("name"), str):
            where += f" ({spec['name']!r})"
        unknown = sorted(set(spec) - set(_JOB_KEYS))
        if unknown:
            msg = f"{where}: unknown key `{unknown[0]}`; keys: {', '.join(_JOB_KEYS)}"
            raise ParameterError(msg)
        job = {"name": spec.get("name", f"job{i}")}
        if not isinstance(job["name"], str) or not job["name"]:
            msg = f"{where}: `name` must be a non-empty string, got {job['name']!r}"
            raise ParameterError(msg)
        for key in ("gpus", "tp", "pp", "dp", "ep"):
            if key not in spec:
                continue
            v = spec[key]
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                msg = f"{where}: `{key}` must be an integer >= 1, got {v!r}"
                raise ParameterError(msg)
            job[key] = v
        if "tp" not in job:
            msg = f"{where}: missing key `tp`"
            raise ParameterError(msg)
        if "gpus" not in job and "dp" not in job:
            msg = f"{where}: give `gpus` or `dp`"
            raise ParameterError(msg)
        job.setdefault("pp", 1)
        job.setdefault("ep", 1)
        if "model_params" in spec:
            v = spec["model_params"]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
                msg = f"{where}: `model_params` must be a number > 0, got {v!r}"
                raise ParameterError(msg)
            job["model_params"] = float(v)
        try:
            _make_job(job.get("gpus"), job["tp"], job["pp"], job.get("dp"), job["ep"])
        except ParameterError as exc:
            msg = f"{where}: {exc}"
            raise ParameterError(msg) from None
        if job.get("dp", 1) % job["ep"]:
            msg = f"{where}: `ep` ({job['ep']}) must divide `dp` ({job['dp']})"
            raise ParameterError(msg)
        jobs.append(job)
    return jobs
