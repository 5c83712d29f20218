// A training step on a device of the cluster: time (DESIGN §7) and memory (§6), and the
// largest micro-batch that fits.
#pragma once

#include <cstdint>

#include "estimator/types.hpp"

namespace estimator {

// The ranks that hold the same parameters: data parallel × context parallel (a cp rank computes
// the same weights on another slice of the sequence). Gradients are reduced, and ZeRO shards,
// over them: Megatron-core's data-parallel group "with context parallel" (DESIGN §5).
inline std::int64_t replicas(const Config& config) { return config.dp * config.cp; }

// Checks the graph, device, network and configuration; throws std::invalid_argument.
void validate(const Graph& graph, const Device& device, const Network& network, const Config& config);

// Evaluates one optimizer step. Throws std::invalid_argument on a broken precondition.
Evaluation evaluate(const Graph& graph, const Device& device, const Network& network,
                    const Config& config);

// As `evaluate`; with `with_ops` false the per-operator report (`Evaluation::ops`) stays empty,
// which saves its allocations where only totals are read (the planner, plan.hpp).
Evaluation evaluate_step(const Graph& graph, const Device& device, const Network& network,
                         const Config& config, bool with_ops);

// Memory per device of the worst pipeline stage only (cheaper than `evaluate`).
MemoryBreakdown memory_per_device(const Graph& graph, const Device& device, const Network& network,
                                  const Config& config);

// The largest micro-batch whose memory fits, 0 if none. With `global_batch` > 0 the gradient
// accumulation follows the micro-batch (global / (dp · micro)) and the micro-batch never
// exceeds global / dp; otherwise `config.grad_accum` is kept.
std::int64_t max_micro_batch(const Graph& graph, const Device& device, const Network& network,
                             const Config& config, std::int64_t global_batch);

}  // namespace estimator
