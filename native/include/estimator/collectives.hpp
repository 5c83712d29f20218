// α–β models of the collectives (DESIGN §8; Thakur et al. 2005, "Optimization of Collective
// Communication Operations in MPICH"; NCCL's bus-bandwidth convention).
#pragma once

#include <cstdint>
#include <vector>

#include "estimator/types.hpp"

namespace estimator {

// One level of links: per-rank bandwidth per direction (bytes/s, already × achievable
// fraction) and per-step latency (s).
struct Link {
    double bandwidth_Bps = 0;
    double latency_s = 0;
};

// Ring all-reduce of `bytes` over `ranks`: 2(n−1)·α + 2(n−1)/n · S/β.
double ring_allreduce_s(double bytes, std::int64_t ranks, const Link& link);
// Reduce-scatter or all-gather: half a ring all-reduce.
double ring_reduce_scatter_s(double bytes, std::int64_t ranks, const Link& link);
// Double binary tree all-reduce (NCCL): 2·log2(n)·α + 2·S/β (pipelined, bandwidth-optimal
// within a factor of 2(n−1)/n of the ring; Sanders et al. 2009).
double tree_allreduce_s(double bytes, std::int64_t ranks, const Link& link);
// All-to-all: (n−1)·α + (n−1)/n · S/β, S the bytes each rank holds.
double alltoall_s(double bytes, std::int64_t ranks, const Link& link);
// Point-to-point send: α + S/β.
double p2p_s(double bytes, const Link& link);

// Where a group of `ranks` ranks with `stride` between consecutive members lies on the
// cluster: how many members share a node and how many nodes it spans.
struct GroupLayout {
    std::int64_t per_node = 1;
    std::int64_t nodes = 1;
};
GroupLayout group_layout(std::int64_t ranks, std::int64_t stride, const Network& network);

// Links seen by one rank of a group: inside a node (NVLink/ICI) and across nodes (its share of
// the node's NICs when every device of the node communicates at once).
Link intra_link(const Network& network);
Link inter_link(const Network& network);

// Hierarchical all-reduce (reduce-scatter in the node, all-reduce of the shard across nodes,
// all-gather in the node), or a flat ring when the group is inside one node. Takes the faster
// of ring and tree for the inter-node stage, as NCCL's tuner does.
double group_allreduce_s(double bytes, std::int64_t ranks, std::int64_t stride,
                         const Network& network);
// Reduce-scatter or all-gather over a group, hierarchical like the all-reduce.
double group_reduce_scatter_s(double bytes, std::int64_t ranks, std::int64_t stride,
                              const Network& network);
// Latency of one ring reduce-scatter or all-gather over a group: (n − 1) steps.
double group_ring_latency_s(std::int64_t ranks, std::int64_t stride, const Network& network);
double group_alltoall_s(double bytes, std::int64_t ranks, std::int64_t stride,
                        const Network& network);

// TPU ICI torus collectives (DESIGN §8). A group of `ranks` chips is taken as a sub-torus of
// the network's axes, its shape the most even split of `ranks` (TPU slices are near-cubic).
// Bidirectional rings run on every axis at once, each carrying its share of the data.
std::vector<std::int64_t> torus_shape(std::int64_t ranks, std::int64_t axes);
// Reduce-scatter or all-gather: α·Σ(n_i − 1) + (1 − 1/r)·S / (W·Σ L_i), with L_i = 2 links
// (both ring directions) on an axis of 4 or more chips (wrapped) and 1 on an axis of 2 or 3.
double torus_reduce_scatter_s(double bytes, std::int64_t ranks, const Network& network);
// All-reduce: a reduce-scatter then an all-gather.
double torus_allreduce_s(double bytes, std::int64_t ranks, const Network& network);
// All-to-all (S the bytes each chip holds): α·Σ(n_i − 1) + (1 − 1/r)·S·(Σ n_i / 4) / (W·Σ L_i),
// the mean distance on a bidirectional ring of n being n/4 hops.
double torus_alltoall_s(double bytes, std::int64_t ranks, const Network& network);
// One ICI link: the point-to-point path between neighbouring chips.
Link torus_link(const Network& network);

}  // namespace estimator
