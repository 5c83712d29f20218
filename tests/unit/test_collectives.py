"""The α–β collective models (DESIGN §8) against their closed forms, by hand."""

import pytest

from estimator import _core

GB = 1e9


def network(**fields: float) -> _core.Network:
    net = _core.Network()
    values = dict(devices_per_node=8, nodes=4, intra_Bps=400 * GB, inter_Bps=100 * GB,
                  intra_latency_s=5e-6, inter_latency_s=10e-6, intra_eff=1.0, inter_eff=1.0)
    values.update(fields)
    for name, value in values.items():
        setattr(net, name, value)
    return net


LINK = _core.Link(100 * GB, 1e-5)


def test_ring_allreduce() -> None:
    # 2(n−1)·α + 2(n−1)/n·S/β = 2·7·10 µs + 2·7/8·8 GB / 100 GB/s = 140 µs + 140 ms.
    assert _core.ring_allreduce_s(8 * GB, 8, LINK) == pytest.approx(140e-6 + 0.14, rel=1e-12)


def test_reduce_scatter_is_half_an_allreduce() -> None:
    assert _core.ring_reduce_scatter_s(8 * GB, 8, LINK) == pytest.approx(
        _core.ring_allreduce_s(8 * GB, 8, LINK) / 2, rel=1e-12)


def test_tree_allreduce() -> None:
    # 2·⌈log2 n⌉·α + 2·S/β = 2·3·10 µs + 2·8 GB / 100 GB/s.
    assert _core.tree_allreduce_s(8 * GB, 8, LINK) == pytest.approx(60e-6 + 0.16, rel=1e-12)


def test_alltoall_and_p2p() -> None:
    assert _core.alltoall_s(8 * GB, 8, LINK) == pytest.approx(70e-6 + 0.07, rel=1e-12)
    assert _core.p2p_s(1 * GB, LINK) == pytest.approx(1e-5 + 0.01, rel=1e-12)


def test_one_rank_or_no_bytes_costs_nothing() -> None:
    assert _core.ring_allreduce_s(8 * GB, 1, LINK) == 0
    assert _core.ring_allreduce_s(0, 8, LINK) == 0


def test_group_inside_a_node_is_a_flat_ring_on_the_intra_link() -> None:
    net = network()
    intra = _core.Link(400 * GB, 5e-6)
    assert _core.group_allreduce_s(GB, 8, 1, net) == pytest.approx(_core.ring_allreduce_s(GB, 8, intra))


def test_hierarchical_allreduce_across_nodes() -> None:
    # 32 ranks = 8 per node × 4 nodes: reduce-scatter and all-gather inside the node, then the
    # shard S/8 all-reduced across nodes at each rank's share of the NICs (100/8 GB/s), the
    # faster of ring and tree.
    net = network()
    intra, inter = _core.Link(400 * GB, 5e-6), _core.Link(100 * GB / 8, 10e-6)
    shard = GB / 8
    across = min(_core.ring_allreduce_s(shard, 4, inter), _core.tree_allreduce_s(shard, 4, inter))
    expected = 2 * _core.ring_reduce_scatter_s(GB, 8, intra) + across
    assert _core.group_allreduce_s(GB, 32, 1, net) == pytest.approx(expected, rel=1e-12)


def test_group_reduce_scatter_pays_ring_latency_over_every_rank() -> None:
    net = network()
    bandwidth = 7 / 8 * GB / (400 * GB) + 3 / 4 * (GB / 8) / (100 * GB / 8)
    assert _core.group_reduce_scatter_s(GB, 32, 1, net) == pytest.approx(bandwidth + 31 * 10e-6, rel=1e-12)


def test_a_strided_group_has_one_member_per_node() -> None:
    # stride 8 = devices_per_node: each of the 4 members is on its own node, all across NICs.
    net = network()
    inter = _core.Link(100 * GB / 8, 10e-6)
    expected = min(_core.ring_allreduce_s(GB, 4, inter), _core.tree_allreduce_s(GB, 4, inter))
    assert _core.group_allreduce_s(GB, 4, 8, net) == pytest.approx(expected, rel=1e-12)


# ------------------------------------------------------------------ TPU ICI torus

def torus(axes: int, link_GBps: float = 100, latency_s: float = 5e-6) -> _core.Network:
    return network(devices_per_node=4, nodes=256, intra_latency_s=latency_s, torus_axes=axes,
                   torus_link_Bps=link_GBps * GB)


@pytest.mark.parametrize(("ranks", "axes", "shape"), [
    (1024, 2, [32, 32]), (512, 2, [32, 16]), (128, 2, [16, 8]), (64, 3, [4, 4, 4]),
    (4096, 3, [16, 16, 16]), (8, 3, [2, 2, 2]), (6, 3, [3, 2, 1]), (7, 2, [7, 1]), (1, 3, [1, 1, 1]),
])
def test_torus_shape_is_the_most_even_split(ranks: int, axes: int, shape: list[int]) -> None:
    assert sorted(_core.torus_shape(ranks, axes), reverse=True) == shape


def test_torus_reduce_scatter_on_a_2d_pod() -> None:
    # 32 × 32 chips, both axes wrap: 2 links per axis, W = 100 GB/s each way.
    # α·Σ(n_i − 1) + (1 − 1/r)·S / (W·Σ L_i) = 5 µs·62 + (1023/1024)·1 GB / 400 GB/s.
    expected = 62 * 5e-6 + (1023 / 1024) * GB / (400 * GB)
    assert _core.torus_reduce_scatter_s(GB, 1024, torus(2)) == pytest.approx(expected, rel=1e-12)
    assert _core.torus_allreduce_s(GB, 1024, torus(2)) == pytest.approx(2 * expected, rel=1e-12)


def test_a_3d_torus_has_three_axes_of_links() -> None:
    # 4 × 4 × 4: 6 links of 45 GB/s; 9 steps.
    expected = 9 * 5e-6 + (63 / 64) * GB / (6 * 45 * GB)
    assert _core.torus_reduce_scatter_s(GB, 64, torus(3, 45)) == pytest.approx(expected, rel=1e-12)


def test_short_axes_do_not_wrap() -> None:
    # A 2 × 2 board: one link per axis (no wraparound), 2 steps.
    expected = 2 * 5e-6 + (3 / 4) * GB / (2 * 100 * GB)
    assert _core.torus_reduce_scatter_s(GB, 4, torus(2)) == pytest.approx(expected, rel=1e-12)


def test_torus_alltoall_travels_a_quarter_ring_on_average() -> None:
    # 16 chips on a 2D torus: 4 × 4, Σ n_i/4 = 2 hops, 4 links.
    expected = 6 * 5e-6 + (15 / 16) * GB * 2 / (4 * 100 * GB)
    assert _core.torus_alltoall_s(GB, 16, torus(2)) == pytest.approx(expected, rel=1e-12)


def test_a_torus_replaces_the_hierarchy_for_group_collectives() -> None:
    net = torus(2)
    assert _core.group_allreduce_s(GB, 512, 1, net) == _core.torus_allreduce_s(GB, 512, net)
    assert _core.group_reduce_scatter_s(GB, 512, 4, net) == _core.torus_reduce_scatter_s(GB, 512, net)
    assert _core.group_alltoall_s(GB, 16, 1, net) == _core.torus_alltoall_s(GB, 16, net)


def test_a_torus_allreduce_beats_a_flat_ring_at_the_same_per_chip_rate() -> None:
    # Both directions of every axis: a 2D torus all-reduce moves the data about twice as fast as
    # one ring over two links' worth of bandwidth, and takes far fewer latency steps.
    net = torus(2)
    ring = _core.ring_allreduce_s(GB, 1024, _core.Link(200 * GB, 5e-6))
    assert _core.torus_allreduce_s(GB, 1024, net) < ring / 1.9


def test_tpu_data_parallel_sync_runs_on_the_torus() -> None:
    import estimator

    options = dict(precision="bf16", micro_batch=32, global_batch=4096)
    slice_ = estimator.load_hardware("tpu-v3-8", nodes=32)
    on_torus = estimator.estimate("resnet50", slice_, **options)
    # The same slice without its torus falls back to the board/ring hierarchy: slower sync.
    flat = estimator.estimate("resnet50", slice_.model_copy(update={"torus": None}), **options)
    # 128 chips = 16 × 8, ICI 100 GB/s at 0.80: all-reduce of the bf16 gradients, at most.
    full = _core.torus_allreduce_s(2 * on_torus.model.params, 128, torus(2, 100 * 0.80))
    assert 0 < on_torus.communication_s["dp"] <= full * (1 + 1e-9)
    assert on_torus.communication_s["dp"] < flat.communication_s["dp"]


def test_bad_torus_networks_are_refused() -> None:
    with pytest.raises(ValueError, match="torus"):
        _core.group_allreduce_s(GB, 8, 1, network(torus_axes=2, torus_link_Bps=0.0))
    with pytest.raises(ValueError, match="torus"):
        _core.group_allreduce_s(GB, 8, 1, network(torus_axes=4, torus_link_Bps=1e9))
    with pytest.raises(ValueError, match="not a torus"):
        _core.torus_allreduce_s(GB, 8, network())
