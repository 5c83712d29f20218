#include <cmath>
#include <cstdint>
#include <stdexcept>

#include "estimator/operators.hpp"
#include "register.hpp"

namespace py = pybind11;

namespace estimator::bindings {
namespace {

constexpr std::int64_t kMaxDegree = std::int64_t{1} << 24;

void require(bool ok, const char* what) {
    if (!ok) throw std::invalid_argument(what);
}

bool all_finite(std::initializer_list<double> xs) {
    for (double x : xs)
        if (!std::isfinite(x)) return false;
    return true;
}

}  // namespace

void register_operators(py::module_& m) {
    m.def("op_cost", [](const Op& op, double batch, double act, double wt, bool autocast, bool fuse,
                        bool low_precision_norm) {
        validate_op(op);
        require(batch > 0 && std::isfinite(batch), "batch must be finite and > 0");
        require(act > 0 && act <= 8 && wt > 0 && wt <= 8, "bytes per element must be in (0, 8]");
        const OpCost c = op_cost(op, batch, act, wt, autocast, fuse, low_precision_norm);
        require(all_finite({c.fwd_flops, c.bwd_flops, c.fwd_bytes, c.bwd_bytes, c.saved_bytes,
                            c.saved_quadratic_bytes, c.input_bytes, c.transient_bytes,
                            c.fwd_side_bytes, c.bwd_side_bytes, c.fwd_strided_bytes,
                            c.bwd_strided_bytes}),
                "op_cost: the cost is not finite: the operator is too large");
        return c;
    }, py::arg("op"), py::arg("batch"), py::arg("act_bytes"), py::arg("weight_bytes"), py::arg("autocast") = false,
       py::arg("fuse_norm_activation") = false, py::arg("low_precision_norm") = false,
       "FLOPs, bytes, kernels and saved activations of one operator (DESIGN §2).");
    m.def("roofline", [](double flops, double bytes, double kernels, double peak, double eff_c,
                         double bw, double eff_m, double launch) {
        const double xs[] = {flops, bytes, kernels, launch};
        for (double x : xs) require(std::isfinite(x) && x >= 0, "roofline: sizes must be finite and >= 0");
        const double ys[] = {peak, eff_c, bw, eff_m};
        for (double y : ys) require(std::isfinite(y) && y > 0, "roofline: peak, bandwidth and efficiencies must be > 0");
        const OpTime t = roofline(flops, bytes, kernels, peak, eff_c, bw, eff_m, launch);
        require(all_finite({t.compute_s, t.memory_s, t.overhead_s, t.total()}),
                "roofline: the time is not finite: the inputs are too large");
        return t;
    }, py::arg("flops"), py::arg("bytes"), py::arg("kernels"), py::arg("peak_flops"),
       py::arg("eff_compute"), py::arg("bandwidth_Bps"), py::arg("eff_memory"), py::arg("launch_s"),
       "Roofline time of one pass (DESIGN §3).");
    m.def("misalignment_factor", [](const Op& op, const Device& d) {
        validate_op(op);
        require(std::isfinite(d.operand_bytes) && d.operand_bytes > 0 && d.operand_bytes <= 8,
                "misalignment_factor: operand bytes must be in (0, 8]");
        const double fs[] = {d.misaligned_8B, d.misaligned_4B, d.misaligned_2B};
        for (double f : fs)
            require(std::isfinite(f) && f > 0 && f <= 1, "misalignment_factor: factors must be in (0, 1]");
        return misalignment_factor(op, d);
    }, py::arg("op"), py::arg("device"),
       "Efficiency multiplier of a matmul whose n or k is not a multiple of 16 bytes (DESIGN §3).");
    m.def("shard", [](const Op& op, const Config& c) {
        validate_op(op);
        require(c.tp >= 1 && c.tp <= kMaxDegree && c.cp >= 1 && c.cp <= kMaxDegree && c.ep >= 1 &&
                    c.ep <= kMaxDegree,
                "shard: tp, cp and ep must be in [1, 2^24]");
        return shard(op, c);
    }, py::arg("op"), py::arg("config"), "The operator as one device sees it (DESIGN §5).");
}

}  // namespace estimator::bindings
