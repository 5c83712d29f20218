// The α–β collective models. Each binding checks its arguments before calling the core, which
// trusts them on the hot path of `evaluate` and `plan` (their inputs are validated once there).
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "estimator/collectives.hpp"
#include <pybind11/stl.h>

#include "register.hpp"

namespace py = pybind11;

namespace estimator::bindings {
namespace {

constexpr std::int64_t kMaxRanks = std::int64_t{1} << 24;

void require(bool ok, const std::string& what) {
    if (!ok) throw std::invalid_argument(what);
}

bool positive(double x) { return std::isfinite(x) && x > 0; }
bool non_negative(double x) { return std::isfinite(x) && x >= 0; }

void check_args(double bytes, std::int64_t ranks) {
    require(non_negative(bytes), "collective: bytes must be finite and >= 0");
    require(ranks >= 1 && ranks <= kMaxRanks, "collective: ranks must be in [1, 2^24]");
}

void check_link(const Link& link) {
    require(positive(link.bandwidth_Bps), "collective: link bandwidth must be finite and > 0");
    require(non_negative(link.latency_s), "collective: link latency must be finite and >= 0");
}

void check_network(const Network& n) {
    require(n.devices_per_node >= 1 && n.devices_per_node <= kMaxRanks && n.nodes >= 1 &&
                n.nodes <= kMaxRanks,
            "network: devices_per_node and nodes must be in [1, 2^24]");
    require(positive(n.intra_Bps) && positive(n.inter_Bps), "network: bandwidths must be finite and > 0");
    require(non_negative(n.intra_latency_s) && non_negative(n.inter_latency_s),
            "network: latencies must be finite and >= 0");
    require(positive(n.intra_eff) && n.intra_eff <= 1 && positive(n.inter_eff) && n.inter_eff <= 1,
            "network: efficiencies must be in (0, 1]");
    require((n.torus_axes == 0 || (n.torus_axes >= 1 && n.torus_axes <= 3 && positive(n.torus_link_Bps))) &&
                non_negative(n.torus_link_Bps),
            "network: a torus needs 1 to 3 axes and an ICI link bandwidth > 0");
}


double checked(double seconds) {
    require(std::isfinite(seconds), "collective: the time is not finite: the inputs are too large");
    return seconds;
}

template <double (*F)(double, std::int64_t, const Network&)>
double on_torus(double bytes, std::int64_t ranks, const Network& network) {
    check_args(bytes, ranks);
    check_network(network);
    require(network.torus_axes > 0, "collective: the network is not a torus");
    return checked(F(bytes, ranks, network));
}

template <double (*F)(double, std::int64_t, const Link&)>
double on_link(double bytes, std::int64_t ranks, const Link& link) {
    check_args(bytes, ranks);
    check_link(link);
    return checked(F(bytes, ranks, link));
}

template <double (*F)(double, std::int64_t, std::int64_t, const Network&)>
double on_group(double bytes, std::int64_t ranks, std::int64_t stride, const Network& network) {
    check_args(bytes, ranks);
    require(stride >= 1 && stride <= kMaxRanks, "collective: stride must be in [1, 2^24]");
    check_network(network);
    return checked(F(bytes, ranks, stride, network));
}

}  // namespace

void register_collectives(py::module_& m) {
    py::class_<Link>(m, "Link")
        .def(py::init<double, double>(), py::arg("bandwidth_Bps"), py::arg("latency_s"))
        .def_readwrite("bandwidth_Bps", &Link::bandwidth_Bps)
        .def_readwrite("latency_s", &Link::latency_s);
    m.def("ring_allreduce_s", &on_link<ring_allreduce_s>, py::arg("bytes"), py::arg("ranks"), py::arg("link"));
    m.def("ring_reduce_scatter_s", &on_link<ring_reduce_scatter_s>, py::arg("bytes"), py::arg("ranks"),
          py::arg("link"));
    m.def("tree_allreduce_s", &on_link<tree_allreduce_s>, py::arg("bytes"), py::arg("ranks"), py::arg("link"));
    m.def("alltoall_s", &on_link<alltoall_s>, py::arg("bytes"), py::arg("ranks"), py::arg("link"));
    m.def("p2p_s", [](double bytes, const Link& link) {
        check_args(bytes, 2);
        check_link(link);
        return checked(p2p_s(bytes, link));
    }, py::arg("bytes"), py::arg("link"));
    m.def("group_allreduce_s", &on_group<group_allreduce_s>, py::arg("bytes"), py::arg("ranks"),
          py::arg("stride"), py::arg("network"));
    m.def("group_reduce_scatter_s", &on_group<group_reduce_scatter_s>, py::arg("bytes"), py::arg("ranks"),
          py::arg("stride"), py::arg("network"));
    m.def("group_alltoall_s", &on_group<group_alltoall_s>, py::arg("bytes"), py::arg("ranks"),
          py::arg("stride"), py::arg("network"));
    m.def("torus_shape", [](std::int64_t ranks, std::int64_t axes) {
        require(ranks >= 1 && ranks <= kMaxRanks, "torus_shape: ranks must be in [1, 2^24]");
        require(axes >= 1 && axes <= 3, "torus_shape: axes must be 1, 2 or 3");
        return torus_shape(ranks, axes);
    }, py::arg("ranks"), py::arg("axes"), "The sub-torus a group of `ranks` chips takes (DESIGN §8).");
    m.def("torus_allreduce_s", &on_torus<torus_allreduce_s>, py::arg("bytes"), py::arg("ranks"),
          py::arg("network"));
    m.def("torus_reduce_scatter_s", &on_torus<torus_reduce_scatter_s>, py::arg("bytes"), py::arg("ranks"),
          py::arg("network"));
    m.def("torus_alltoall_s", &on_torus<torus_alltoall_s>, py::arg("bytes"), py::arg("ranks"),
          py::arg("network"));
}

}  // namespace estimator::bindings
