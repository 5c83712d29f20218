// The configuration planner: every parallel layout, micro-batch, recomputation, ZeRO stage and
// sequence-parallel choice for a model on a cluster, evaluated with the step model of
// evaluate.hpp, ranked by step time. The loop runs here, on worker threads, with no Python per
// configuration. No pybind11, no I/O here.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "estimator/types.hpp"

namespace estimator {

// What to search. The global batch is fixed (the workload of one step), so ranking by step
// time is ranking by throughput and, at a fixed device count, by cost.
struct PlanSpace {
    std::int64_t global_batch = 0;       // sequences or images per optimizer step, > 0
    std::int64_t tokens_per_sample = 0;  // sequence length; 0 for models without tokens (no cp)
    std::int64_t max_tp = 0;             // 0: the devices of one node
    std::int64_t max_cp = 8;
    std::int64_t max_vp = 8;
    std::int64_t max_micro_batch = 64;
    std::int64_t ep = 1;                 // expert parallel degree, kept fixed
    Optimizer optimizer = Optimizer::adam;
    Precision precision = Precision::bf16;
    AttentionKernel attention = AttentionKernel::graph;
    bool autocast = false;
    bool low_precision_norm = false;
    bool fuse_norm_activation = false;
    bool foreach_optimizer = false;
    bool loop_optimizer = false;
    bool fsdp = false;  // ZeRO-3 candidates shard as PyTorch FSDP (Config::fsdp)
    bool fused_loss = false;
    bool blocking_gathers = false;  // ZeRO-3 candidates' gathers stall compute (Config::blocking_gathers)
    bool tp_overlap = false;  // tensor-parallel collectives overlap the GEMMs (Config::tp_overlap)
    std::vector<Recompute> recompute{Recompute::none, Recompute::selective, Recompute::full};
    std::vector<int> zero{0, 1, 2, 3};
    std::vector<int> sequence_parallel{0, 1};  // 0 = off, 1 = on (on only where tp > 1)
    std::int64_t top_k = 10;
    int threads = 0;                     // 0: one per hardware thread
};

// One evaluated configuration.
struct PlanCandidate {
    Config config;
    double step_time_s = 0;
    TimeBreakdown time;
    MemoryBreakdown memory;
    double memory_bytes = 0;  // memory.total(), worst pipeline stage
    bool fits = false;
    std::int64_t index = 0;   // position in the enumeration (breaks ties deterministically)
};

// The best configurations that take one value of one dimension (e.g. pp = 8).
struct PlanValue {
    std::int64_t value = 0;
    std::int64_t configs = 0;  // evaluated with this value
    std::int64_t fitting = 0;  // of which fit in memory
    PlanCandidate best;        // fastest that fits (valid when fitting > 0)
    PlanCandidate fastest;     // fastest, fitting or not (valid when configs > 0)
};

// One searched dimension: tp, pp, dp, cp, vp, micro_batch, recompute (0 none, 1 selective,
// 2 full), zero, sequence_parallel (0/1); values ascending.
struct PlanDimension {
    std::string name;
    std::vector<PlanValue> values;
};

struct PlanResult {
    // Fitting configurations, fastest first, at most top_k. Of configurations with exactly the
    // same step time and memory (e.g. selective recompute where attention is fused and saves
    // nothing quadratic) only the first enumerated, the simpler choice, is kept.
    std::vector<PlanCandidate> plans;
    PlanCandidate fastest;             // fastest of all, fitting or not (valid when space > 0)
    PlanCandidate leanest;             // least memory per device (valid when space > 0)
    // The time–memory Pareto frontier of every configuration, fitting or not, fastest first:
    // none is both faster and leaner. Those faster than plans[0] show what memory costs.
    std::vector<PlanCandidate> frontier;
    std::int64_t space = 0;            // configurations enumerated (all evaluated)
    std::int64_t fitting = 0;
    std::vector<PlanDimension> dimensions;
};

// Called from the calling thread about every 0.1 s with (configurations done, total); it may
// throw to cancel the search (the exception is rethrown after the workers stop).
using PlanProgress = std::function<void(std::int64_t, std::int64_t)>;

// The configurations `plan` would evaluate, in enumeration order (validates its inputs).
std::vector<Config> plan_candidates(const Graph& graph, const Network& network,
                                    const PlanSpace& space);

// How many configurations `plan` would evaluate (enumeration only; cheap).
std::int64_t plan_space_size(const Graph& graph, const Network& network, const PlanSpace& space);

// Searches the space and returns the fastest fitting configurations. Throws
// std::invalid_argument on a broken precondition (also from a worker thread). With `timed`, the
// step time comes from that graph (the model at the mean length a step computes) and the memory
// from `graph` (at the full length the longest batch needs), as `estimate` does (DESIGN §2.10).
PlanResult plan(const Graph& graph, const Device& device, const Network& network,
                const PlanSpace& space, const PlanProgress& progress = nullptr,
                const Graph* timed = nullptr);

}  // namespace estimator
