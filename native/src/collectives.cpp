#include "estimator/collectives.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace estimator {
namespace {

double steps(std::int64_t ranks) { return static_cast<double>(ranks - 1); }

void check(double bytes, std::int64_t ranks, const Link& link) {
    if (!std::isfinite(bytes) || bytes < 0) throw std::invalid_argument("collective: bytes must be finite and >= 0");
    if (ranks < 1) throw std::invalid_argument("collective: ranks must be >= 1");
    if (ranks > 1 && !(link.bandwidth_Bps > 0))
        throw std::invalid_argument("collective: link bandwidth must be > 0");
}

}  // namespace

double ring_allreduce_s(double bytes, std::int64_t ranks, const Link& link) {
    check(bytes, ranks, link);
    if (ranks == 1 || bytes == 0) return 0.0;
    const double n = static_cast<double>(ranks);
    return 2 * steps(ranks) * link.latency_s + 2 * (n - 1) / n * bytes / link.bandwidth_Bps;
}

double ring_reduce_scatter_s(double bytes, std::int64_t ranks, const Link& link) {
    check(bytes, ranks, link);
    if (ranks == 1 || bytes == 0) return 0.0;
    const double n = static_cast<double>(ranks);
    return steps(ranks) * link.latency_s + (n - 1) / n * bytes / link.bandwidth_Bps;
}

double tree_allreduce_s(double bytes, std::int64_t ranks, const Link& link) {
    check(bytes, ranks, link);
    if (ranks == 1 || bytes == 0) return 0.0;
    const double n = static_cast<double>(ranks);
    return 2 * std::ceil(std::log2(n)) * link.latency_s + 2 * bytes / link.bandwidth_Bps;
}

double alltoall_s(double bytes, std::int64_t ranks, const Link& link) {
    check(bytes, ranks, link);
    if (ranks == 1 || bytes == 0) return 0.0;
    const double n = static_cast<double>(ranks);
    return steps(ranks) * link.latency_s + (n - 1) / n * bytes / link.bandwidth_Bps;
}

double p2p_s(double bytes, const Link& link) {
    check(bytes, 2, link);
    if (bytes == 0) return 0.0;
    return link.latency_s + bytes / link.bandwidth_Bps;
}

GroupLayout group_layout(std::int64_t ranks, std::int64_t stride, const Network& net) {
    GroupLayout g;
    const std::int64_t dpn = std::max<std::int64_t>(1, net.devices_per_node);
    if (stride >= dpn) {
        g.per_node = 1;
    } else {
        g.per_node = std::min(ranks, std::max<std::int64_t>(1, dpn / std::max<std::int64_t>(1, stride)));
    }
    g.nodes = (ranks + g.per_node - 1) / g.per_node;
    return g;
}

Link intra_link(const Network& net) { return {net.intra_Bps * net.intra_eff, net.intra_latency_s}; }

Link torus_link(const Network& net) { return {net.torus_link_Bps * net.intra_eff, net.intra_latency_s}; }

std::vector<std::int64_t> torus_shape(std::int64_t ranks, std::int64_t axes) {
    std::vector<std::int64_t> primes;
    std::int64_t rest = std::max<std::int64_t>(1, ranks);
    for (std::int64_t p = 2; p * p <= rest; ++p)
        while (rest % p == 0) {
            primes.push_back(p);
            rest /= p;
        }
    if (rest > 1) primes.push_back(rest);
    std::vector<std::int64_t> shape(static_cast<std::size_t>(std::max<std::int64_t>(1, axes)), 1);
    for (auto p = primes.rbegin(); p != primes.rend(); ++p)  // largest first, to the shortest axis
        *std::min_element(shape.begin(), shape.end()) *= *p;
    return shape;
}

namespace {

struct TorusSums {
    double links = 0;  // Σ L_i: 2 per wrapped axis (both directions of a ring), 1 per short axis
    double steps = 0;  // Σ (n_i − 1)
    double hops = 0;   // Σ n_i / 4
};

TorusSums torus_sums(std::int64_t ranks, const Network& net) {
    TorusSums t;
    for (const std::int64_t n : torus_shape(ranks, net.torus_axes)) {
        if (n <= 1) continue;
        // An axis of 2 or 3 chips (a board, a small slice) has no wraparound link: its ring
        // runs out and back over one link per direction (hardware_notes §5).
        t.links += n >= 4 ? 2 : 1;
        t.steps += static_cast<double>(n - 1);
        t.hops += static_cast<double>(n) / 4;
    }
    return t;
}

}  // namespace

double torus_reduce_scatter_s(double bytes, std::int64_t ranks, const Network& net) {
    if (ranks <= 1 || bytes <= 0) return 0.0;
    const TorusSums t = torus_sums(ranks, net);
    const Link link = torus_link(net);
    const double r = static_cast<double>(ranks);
    return t.steps * link.latency_s + (1 - 1 / r) * bytes / (t.links * link.bandwidth_Bps);
}

double torus_allreduce_s(double bytes, std::int64_t ranks, const Network& net) {
    return 2 * torus_reduce_scatter_s(bytes, ranks, net);
}

double torus_alltoall_s(double bytes, std::int64_t ranks, const Network& net) {
    if (ranks <= 1 || bytes <= 0) return 0.0;
    const TorusSums t = torus_sums(ranks, net);
    const Link link = torus_link(net);
    const double r = static_cast<double>(ranks);
    return t.steps * link.latency_s + (1 - 1 / r) * bytes * t.hops / (t.links * link.bandwidth_Bps);
}

Link inter_link(const Network& net) {
    const double share = net.inter_Bps / static_cast<double>(std::max<std::int64_t>(1, net.devices_per_node));
    return {share * net.inter_eff, net.inter_latency_s};
}

double group_allreduce_s(double bytes, std::int64_t ranks, std::int64_t stride, const Network& net) {
    if (ranks <= 1 || bytes <= 0) return 0.0;
    if (net.torus_axes > 0) return torus_allreduce_s(bytes, ranks, net);
    const GroupLayout g = group_layout(ranks, stride, net);
    const Link intra = intra_link(net);
    if (g.nodes == 1) return ring_allreduce_s(bytes, ranks, intra);
    const Link inter = inter_link(net);
    const double shard = bytes / static_cast<double>(g.per_node);
    const double across = std::min(ring_allreduce_s(shard, g.nodes, inter),
                                    tree_allreduce_s(shard, g.nodes, inter));
    return 2 * ring_reduce_scatter_s(bytes, g.per_node, intra) + across;
}

double group_reduce_scatter_s(double bytes, std::int64_t ranks, std::int64_t stride, const Network& net) {
    if (ranks <= 1 || bytes <= 0) return 0.0;
    if (net.torus_axes > 0) return torus_reduce_scatter_s(bytes, ranks, net);
    const GroupLayout g = group_layout(ranks, stride, net);
    const Link intra = intra_link(net);
    if (g.nodes == 1) return ring_reduce_scatter_s(bytes, ranks, intra);
    // Bandwidth: NCCL's rings cross each node boundary once per channel, so the volume moves as
    // in a reduce-scatter inside the node plus one across nodes of the node's shard. Latency:
    // NCCL implements reduce-scatter and all-gather with rings only, n − 1 steps over all ranks,
    // each paced by the slowest (inter-node) hop (NCCL user guide, collective algorithms).
    const Link inter = inter_link(net);
    const double shard = bytes / static_cast<double>(g.per_node);
    const Link intra_bw{intra.bandwidth_Bps, 0.0};
    const Link inter_bw{inter.bandwidth_Bps, 0.0};
    return ring_reduce_scatter_s(bytes, g.per_node, intra_bw) +
           ring_reduce_scatter_s(shard, g.nodes, inter_bw) + group_ring_latency_s(ranks, stride, net);
}

double group_ring_latency_s(std::int64_t ranks, std::int64_t stride, const Network& net) {
    if (ranks <= 1) return 0.0;
    if (net.torus_axes > 0) return torus_sums(ranks, net).steps * net.intra_latency_s;
    const GroupLayout g = group_layout(ranks, stride, net);
    const double alpha = g.nodes == 1 ? net.intra_latency_s : net.inter_latency_s;
    return static_cast<double>(ranks - 1) * alpha;
}

double group_alltoall_s(double bytes, std::int64_t ranks, std::int64_t stride, const Network& net) {
    if (ranks <= 1 || bytes <= 0) return 0.0;
    if (net.torus_axes > 0) return torus_alltoall_s(bytes, ranks, net);
    const GroupLayout g = group_layout(ranks, stride, net);
    if (g.nodes == 1) return alltoall_s(bytes, ranks, intra_link(net));
    // The share of the data bound for other nodes crosses the NICs; the rest stays inside.
    const double n = static_cast<double>(ranks);
    const double remote = bytes * ((n - static_cast<double>(g.per_node)) / n);
    const double local = bytes - remote;
    return std::max(alltoall_s(local, g.per_node, intra_link(net)),
                    alltoall_s(remote, ranks, inter_link(net)));
}

}  // namespace estimator
