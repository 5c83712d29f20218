// Per-operator FLOPs, bytes, kernels and saved activations (DESIGN §2), roofline time (§3) and
// sharding by the parallel degrees (§5).
#pragma once

#include "estimator/types.hpp"

namespace estimator {

// Checks an operator's fields (finite, non-negative, the shape its kind needs); throws
// std::invalid_argument naming the operator.
void validate_op(const Op& op);

// Cost of one instance at micro-batch `batch` with activation bytes `act` and weight bytes `wt`;
// `autocast`: torch.autocast over fp32 weights with `act` < 4 (DESIGN §2.9);
// `low_precision_norm`: under autocast, the stream's norms cast their input down and normalise
// in the compute precision, so the matmuls after them cast nothing (DESIGN §2.9).
OpCost op_cost(const Op& op, double batch, double act, double wt, bool autocast = false,
               bool fuse_norm_activation = false, bool low_precision_norm = false);

// Roofline time of one pass (DESIGN §3): max(flops / (peak·η_c), bytes / (bw·η_m)) + launches.
OpTime roofline(double flops, double bytes, double kernels, double peak_flops, double eff_compute,
                double bandwidth_Bps, double eff_memory, double launch_s);

// Efficiency multiplier of a matmul whose n or k is not a multiple of 16 bytes at the device's
// operand width (DESIGN §3); 1 when both are.
double misalignment_factor(const Op& op, const Device& device);

// Fused attention's efficiency at `head_dim` relative to head dim 128: `at_64` at 64 and below,
// linear up to 1 at 128 and above (DESIGN §3).
double head_dim_factor(double head_dim, double at_64);

// Forward and backward time of one instance on `device`.
void op_times(const Op& op, const OpCost& cost, const Device& device, OpTime& fwd, OpTime& bwd);

// Parameter tensors of an operator (DESIGN §7): its `param_tensors`, or one plus its bias.
double tensors_of(const Op& op);

// The operator as one device sees it under tp/cp/ep (DESIGN §5).
Op shard(const Op& op, const Config& config);

// Corrects `cost.saved_bytes` for the input a weight matmul keeps for backward (`op` as shard()
// returns it; `after_fused_attention` when the op before it in its segment is a fused attention
// core): under sequence parallelism a column-parallel linear keeps its sequence shard, not the
// gathered input (DESIGN §5); under fp8, the fp8 cast of it, 1 byte instead of `e` (DESIGN §6).
void keep_saved_input(const Op& op, bool after_fused_attention, const Config& config, double e,
                      OpCost& cost);

// Bytes per element for a precision (DESIGN §4).
PrecisionBytes precision_bytes(Precision precision);

// Optimizer state bytes per parameter, excluding the master copy (DESIGN §6).
double optimizer_state_bytes(Optimizer optimizer);

}  // namespace estimator
