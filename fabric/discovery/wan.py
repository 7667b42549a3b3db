"""A design's virtual WAN router groups as the individual routers discovery sees.

A multi-site design (the ``superfactory`` preset, :func:`topologies.scaleout._add_wan`)
models each site's WAN routers as **one virtual node**: ``kind = "wan"``,
``part = "virtual"``, ``chips`` = the number of routers, ``chips_part`` = their catalog
part, ``ports`` = ``chips`` x the radix of one router. A discovery tool sees each router.
This module is the one rule that expands such a group; the LLDP writer
(:func:`fabric.discovery.lldp.lldp_json_text`), :func:`fabric.discovery.diff.physical_links`
(so :func:`~fabric.discovery.diff.diff_fabrics`) and the ``--impact`` helpers all use it:

* the group ``G`` becomes the routers ``G-r1`` .. ``G-r<chips>``: ``kind = "wan"``,
  ``part = chips_part``, ``ports = ports // chips``, the group's ``port_gbps``, ``tier`` and
  ``site``, and ``wan_group`` naming the group;
* port ``p`` of the group (numbered by :mod:`fabric.ports`: the site's top-tier uplinks
  first, in switch order, then the links to the other sites' groups in name order) is
  port ``(p - 1) // chips + 1`` of router ``(p - 1) % chips + 1``. Round robin: the links
  of one top-tier switch land on different routers, every router uses its ports from 1
  without gaps, and the routers' port counts differ by at most one. Both ends of a
  site-to-site link (medium ``wan``) share one port number on the design's edge, so
  they expand to the routers of the same index at the two sites.

Other virtual nodes (the aggregated planes and NVLink domains of
``aggregate_nvswitch=true`` / ``aggregate_planes=true``) are not expanded: the writers
refuse them.
"""

__all__ = ["wan_groups", "router_name", "router_port", "wan_routers", "router_groups",
           "expand_end"]


def wan_groups(G):
    """``{group node: its attribute dict}`` of the virtual WAN router groups of ``G``."""
    return {n: d for n, d in G.nodes(data=True)
            if d.get("kind") == "wan" and d.get("part") == "virtual"}


def router_name(group, k):
    """The name of router ``k`` (1-based) of ``group``.

    >>> router_name("s0-wan", 1)
    's0-wan-r1'
    """
    return f"{group}-r{k}"


def router_port(chips, port):
    """``(router index, its port)`` of port ``port`` of a group of ``chips`` routers.

    >>> [router_port(3, p) for p in (1, 2, 3, 4, 7)]
    [(1, 1), (2, 1), (3, 1), (1, 2), (1, 3)]
    """
    return (port - 1) % chips + 1, (port - 1) // chips + 1


def _chips(d):
    return max(1, int(d.get("chips", 1) or 1))


def wan_routers(G, groups=None):
    """``{router name: attribute dict}`` of the routers of every virtual WAN group of ``G``
    (``groups``: :func:`wan_groups` when already known).

    Raises
    ------
    FabricError
        When a router's name is already a node of ``G``.
    """
    groups = wan_groups(G) if groups is None else groups
    out = {}
    for group, d in groups.items():
        chips = _chips(d)
        attrs = {"kind": "wan", "part": str(d.get("chips_part") or "unknown"),
                 "ports": int(d.get("ports", chips)) // chips,
                 "port_gbps": float(d.get("port_gbps", 0.0)), "tier": int(d.get("tier", 4)),
                 "wan_group": group}
        if d.get("site") is not None:
            attrs["site"] = d["site"]
        for k in range(1, chips + 1):
            name = router_name(group, k)
            if name in G:
                from fabric.exceptions import FabricError

                msg = (f"cannot expand the WAN router group {group!r}: its router name "
                       f"{name!r} is already a node of the fabric")
                raise FabricError(msg)
            out[name] = dict(attrs)
    return out


def router_groups(G, groups=None):
    """``{router name: its group}`` for every router of the virtual WAN groups of ``G``
    (names only: cheap, no check)."""
    groups = wan_groups(G) if groups is None else groups
    return {router_name(g, k): g for g, d in groups.items() for k in range(1, _chips(d) + 1)}


def expand_end(groups):
    """A function ``(device, port) -> (device, port)`` that maps a port of a group of
    ``groups`` (:func:`wan_groups`) to its router's port and leaves any other end as is."""
    chips = {g: _chips(d) for g, d in groups.items()}

    def end(dev, port):
        c = chips.get(dev)
        if c is None:
            return dev, port
        k, q = router_port(c, port)
        return router_name(dev, k), q

    return end
