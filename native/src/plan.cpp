// The configuration planner (plan.hpp): enumerate the layouts the divisibility rules allow,
// evaluate each with the step model (evaluate.cpp), keep the fastest that fit.
//
// Work is split into "layouts" (tp, cp, pp, dp, vp, micro-batch): each expands into its
// recompute × ZeRO × sequence-parallel choices. Worker threads take layouts from an atomic
// counter; each keeps its own bounded top-k heap and per-dimension bests, merged at the end.
// Ties are broken by enumeration index, so the answer does not depend on the thread count.
#include "estimator/plan.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

#include "estimator/evaluate.hpp"

namespace estimator {
namespace {

constexpr std::int64_t kMaxBatch = std::int64_t{1} << 40;
constexpr std::int64_t kMaxDegree = std::int64_t{1} << 24;
// ~1 minute of search on two cores; beyond it the caller should narrow the space.
constexpr std::int64_t kMaxConfigs = std::int64_t{1} << 24;
constexpr double kProgressInterval_s = 0.1;

void require(bool ok, const std::string& what) {
    if (!ok) throw std::invalid_argument(what);
}

// One layout: parallel degrees and batch split. Expands into recompute × zero × sp configs.
struct Layout {
    std::int64_t tp, cp, pp, dp, vp, micro_batch, grad_accum;
    std::int64_t first;  // enumeration index of its first configuration
};

struct Choices {
    std::vector<Recompute> recompute;
    std::vector<int> zero;
    std::vector<int> sequence_parallel;
};

template <typename T>
std::vector<T> sorted_unique(std::vector<T> xs) {
    std::sort(xs.begin(), xs.end());
    xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
    return xs;
}

// The options every candidate shares: kernels, precision and optimizer (no layout yet).
Config shared_options(const PlanSpace& s) {
    Config c;
    c.optimizer = s.optimizer;
    c.precision = s.precision;
    c.attention = s.attention;
    c.autocast = s.autocast;
    c.low_precision_norm = s.low_precision_norm;
    c.fuse_norm_activation = s.fuse_norm_activation;
    c.foreach_optimizer = s.foreach_optimizer;
    c.loop_optimizer = s.loop_optimizer;
    c.fused_loss = s.fused_loss;
    c.tp_overlap = s.tp_overlap;
    return c;
}

Choices check_space(const Graph& g, const Device& d, const Network& net, const PlanSpace& s) {
    validate(g, d, net, shared_options(s));  // graph, device and network
    require(s.global_batch >= 1 && s.global_batch <= kMaxBatch, "plan: global_batch must be in [1, 2^40]");
    require(s.tokens_per_sample >= 0 && s.tokens_per_sample <= kMaxBatch,
            "plan: tokens_per_sample must be in [0, 2^40]");
    require(s.max_tp >= 0 && s.max_tp <= kMaxDegree, "plan: max_tp must be in [0, 2^24]");
    require(s.max_cp >= 1 && s.max_cp <= 1024, "plan: max_cp must be in [1, 1024]");
    require(s.max_vp >= 1 && s.max_vp <= 64, "plan: max_vp must be in [1, 64]");
    require(s.max_micro_batch >= 1 && s.max_micro_batch <= 65536,
            "plan: max_micro_batch must be in [1, 65536]");
    require(s.ep >= 1 && s.ep <= kMaxDegree, "plan: ep must be in [1, 2^24]");
    require(s.top_k >= 1 && s.top_k <= 10000, "plan: top_k must be in [1, 10000]");
    require(s.threads >= 0 && s.threads <= 1024, "plan: threads must be in [0, 1024]");
    Choices c{sorted_unique(s.recompute), sorted_unique(s.zero), sorted_unique(s.sequence_parallel)};
    require(!c.recompute.empty(), "plan: recompute needs at least one choice");
    for (Recompute r : c.recompute)
        require(r == Recompute::none || r == Recompute::selective || r == Recompute::full,
                "plan: unknown recompute choice");
    require(!c.zero.empty() && c.zero.front() >= 0 && c.zero.back() <= 3,
            "plan: zero choices must be 0, 1, 2 or 3");
    require(!c.sequence_parallel.empty() && c.sequence_parallel.front() >= 0 &&
                c.sequence_parallel.back() <= 1,
            "plan: sequence_parallel choices must be 0 or 1");
    return c;
}

// The segment pipeline parallelism splits: the one repeated most (evaluate.cpp's rule).
std::int64_t layer_count(const Graph& g) {
    std::int64_t best = g.segments.front().repeat;
    for (const Segment& s : g.segments) best = std::max(best, s.repeat);
    return best;
}

bool divides_heads(const Graph& g, std::int64_t tp) {
    const double t = static_cast<double>(tp);
    for (const Segment& s : g.segments)
        for (const Op& op : s.ops)
            if (op.kind == OpKind::attention && std::fmod(op.heads, t) != 0) return false;
    return true;
}

std::vector<std::int64_t> divisors(std::int64_t n, std::int64_t cap) {
    std::vector<std::int64_t> out;
    for (std::int64_t x = 1; x <= cap && x <= n; ++x)
        if (n % x == 0) out.push_back(x);
    return out;
}

// All divisors of n (n <= 2^24 here: the layer count), ascending.
std::vector<std::int64_t> all_divisors(std::int64_t n) {
    std::vector<std::int64_t> small, large;
    for (std::int64_t x = 1; x * x <= n; ++x)
        if (n % x == 0) {
            small.push_back(x);
            if (x != n / x) large.push_back(n / x);
        }
    small.insert(small.end(), large.rbegin(), large.rend());
    return small;
}

// ZeRO shards over the dp·cp replicas (evaluate.hpp): with one, only zero 0 is tried.
bool shards(std::int64_t dp, std::int64_t cp) { return dp * cp > 1; }
std::int64_t zero_count(const Choices& ch, std::int64_t dp, std::int64_t cp) {
    return shards(dp, cp) ? static_cast<std::int64_t>(ch.zero.size()) : 1;
}
std::int64_t sp_count(const Choices& ch, std::int64_t tp) {
    return tp > 1 ? static_cast<std::int64_t>(ch.sequence_parallel.size()) : 1;  // sp needs tp > 1
}

std::vector<Layout> enumerate_layouts(const Graph& g, const Network& net, const PlanSpace& s,
                                      const Choices& ch, std::int64_t& total) {
    const std::int64_t devices = net.devices_per_node * net.nodes;  // <= 2^48
    const std::int64_t layers = layer_count(g);
    const std::int64_t max_tp = std::min(s.max_tp > 0 ? s.max_tp : net.devices_per_node, devices);
    const std::int64_t per_layout = static_cast<std::int64_t>(ch.recompute.size());
    const std::vector<std::int64_t> pps = layers > 1 ? all_divisors(layers) : std::vector<std::int64_t>{1};
    std::vector<Layout> layouts;
    std::map<std::int64_t, std::vector<std::int64_t>> micro_batches;  // by batch per replica
    total = 0;
    for (std::int64_t tp = 1; tp <= max_tp; tp *= 2) {
        if (!divides_heads(g, tp)) continue;
        for (std::int64_t cp = 1; cp <= s.max_cp; cp *= 2) {
            if (cp > 1 && (s.tokens_per_sample == 0 || s.tokens_per_sample % cp != 0)) break;
            for (std::int64_t pp : pps) {
                // tp, cp <= 2^24 and pp <= 2^24: check each product against devices first.
                if (tp * cp > devices || pp > devices / (tp * cp)) break;
                const std::int64_t model_parallel = tp * cp * pp;
                if (devices % model_parallel != 0) continue;
                const std::int64_t dp = devices / model_parallel;
                if (s.global_batch % dp != 0) continue;
                if (s.ep > tp * cp * dp) continue;
                const std::int64_t per_replica = s.global_batch / dp;
                auto found = micro_batches.find(per_replica);
                if (found == micro_batches.end())
                    found = micro_batches.emplace(per_replica, divisors(per_replica, s.max_micro_batch)).first;
                const std::vector<std::int64_t>& mbs = found->second;
                const std::vector<std::int64_t> vps =
                    pp > 1 ? divisors(layers / pp, s.max_vp) : std::vector<std::int64_t>{1};
                for (std::int64_t vp : vps) {
                    for (std::int64_t mb : mbs) {
                        const std::int64_t ga = per_replica / mb;
                        // Megatron's interleaved schedule needs the micro-batches per step to
                        // be a multiple of pp (Narayanan et al. 2021, §2.2).
                        if (vp > 1 && ga % pp != 0) continue;
                        layouts.push_back({tp, cp, pp, dp, vp, mb, ga, total});
                        total += per_layout * zero_count(ch, dp, cp) * sp_count(ch, tp);
                        require(total <= kMaxConfigs,
                                "plan: the search space exceeds 2^24 configurations; lower "
                                "max_micro_batch, max_vp or max_cp, or fix some choices");
                    }
                }
            }
        }
    }
    return layouts;
}

Config make_config(const Layout& l, const PlanSpace& s, Recompute r, int zero, bool sp) {
    Config c = shared_options(s);
    c.tp = l.tp;
    c.cp = l.cp;
    c.pp = l.pp;
    c.dp = l.dp;
    c.vp = l.vp;
    c.ep = s.ep;
    c.micro_batch = l.micro_batch;
    c.grad_accum = l.grad_accum;
    c.recompute = r;
    c.zero = zero;
    c.sequence_parallel = sp;
    c.fsdp = s.fsdp && zero == 3;
    c.blocking_gathers = s.blocking_gathers && zero == 3;
    return c;
}

// Calls f(config, index) for each configuration of a layout, in enumeration order.
template <typename F>
void for_each_config(const Layout& l, const PlanSpace& s, const Choices& ch, F&& f) {
    std::int64_t index = l.first;
    for (Recompute r : ch.recompute)
        for (std::int64_t z = 0; z < zero_count(ch, l.dp, l.cp); ++z)
            for (std::int64_t p = 0; p < sp_count(ch, l.tp); ++p) {
                const int zero = shards(l.dp, l.cp) ? ch.zero[static_cast<std::size_t>(z)] : 0;
                const bool sp = l.tp > 1 && ch.sequence_parallel[static_cast<std::size_t>(p)] == 1;
                f(make_config(l, s, r, zero, sp), index++);
            }
}

bool better(const PlanCandidate& a, const PlanCandidate& b) {
    return a.step_time_s < b.step_time_s || (a.step_time_s == b.step_time_s && a.index < b.index);
}

bool leaner(const PlanCandidate& a, const PlanCandidate& b) {
    return a.memory_bytes < b.memory_bytes || (a.memory_bytes == b.memory_bytes && a.index < b.index);
}

// Indistinguishable under the step model: the same time and memory to the last bit.
bool same_result(const PlanCandidate& a, const PlanCandidate& b) {
    return a.step_time_s == b.step_time_s && a.memory_bytes == b.memory_bytes;
}

constexpr std::size_t kDimensions = 9;
const std::array<const char*, kDimensions> kDimensionNames{
    "tp", "pp", "dp", "cp", "vp", "micro_batch", "recompute", "zero", "sequence_parallel"};

std::array<std::int64_t, kDimensions> dimension_values(const Config& c) {
    return {c.tp, c.pp, c.dp, c.cp, c.vp, c.micro_batch, static_cast<std::int64_t>(c.recompute),
            c.zero, c.sequence_parallel ? 1 : 0};
}

void keep_best(PlanValue& v, const PlanCandidate& x) {
    if (v.configs == 0 || better(x, v.fastest)) v.fastest = x;
    ++v.configs;
    if (x.fits) {
        if (v.fitting == 0 || better(x, v.best)) v.best = x;
        ++v.fitting;
    }
}

void merge_value(PlanValue& into, const PlanValue& from) {
    if (from.configs > 0 && (into.configs == 0 || better(from.fastest, into.fastest)))
        into.fastest = from.fastest;
    if (from.fitting > 0 && (into.fitting == 0 || better(from.best, into.best))) into.best = from.best;
    into.configs += from.configs;
    into.fitting += from.fitting;
}

// Keeps `front` free of dominated points: none both at least as fast and at least as lean as
// another. A point equal to a kept one is dropped, so adding in index order keeps the first.
void add_to_frontier(std::vector<PlanCandidate>& front, const PlanCandidate& x) {
    for (const PlanCandidate& f : front)
        if (f.step_time_s <= x.step_time_s && f.memory_bytes <= x.memory_bytes) return;
    front.erase(std::remove_if(front.begin(), front.end(),
                               [&](const PlanCandidate& f) {
                                   return x.step_time_s <= f.step_time_s &&
                                          x.memory_bytes <= f.memory_bytes;
                               }),
                front.end());
    front.push_back(x);
}

// What one worker has seen.
struct Tally {
    std::vector<PlanCandidate> heap;  // max-heap under `better`: the worst kept plan on top
    PlanCandidate fastest, leanest;
    std::vector<PlanCandidate> frontier;
    std::int64_t evaluated = 0, fitting = 0;
    std::array<std::map<std::int64_t, PlanValue>, kDimensions> dimensions;

    void add(const PlanCandidate& x, std::size_t k) {
        if (evaluated == 0 || better(x, fastest)) fastest = x;
        if (evaluated == 0 || leaner(x, leanest)) leanest = x;
        add_to_frontier(frontier, x);
        ++evaluated;
        const auto values = dimension_values(x.config);
        for (std::size_t i = 0; i < kDimensions; ++i) {
            const std::int64_t value = values[i];
            PlanValue& v = dimensions[i][value];
            v.value = value;
            keep_best(v, x);
        }
        if (!x.fits) return;
        ++fitting;
        if (heap.size() == k && !better(x, heap.front())) return;
        for (PlanCandidate& kept : heap)
            if (same_result(kept, x)) {
                if (x.index < kept.index) {  // the simpler twin replaces it (same rank)
                    kept = x;
                    std::make_heap(heap.begin(), heap.end(), better);
                }
                return;
            }
        if (heap.size() < k) {
            heap.push_back(x);
            std::push_heap(heap.begin(), heap.end(), better);
        } else if (better(x, heap.front())) {
            std::pop_heap(heap.begin(), heap.end(), better);
            heap.back() = x;
            std::push_heap(heap.begin(), heap.end(), better);
        }
    }
};

PlanCandidate candidate(const Config& c, const Evaluation& e, std::int64_t index) {
    PlanCandidate x;
    x.config = c;
    x.step_time_s = e.step_time_s;
    x.time = e.time;
    x.memory = e.memory;
    x.memory_bytes = e.memory.total();
    x.fits = e.fits;
    x.index = index;
    return x;
}

// Runs `work(worker)` on `threads` threads, the calling thread being worker 0 (the one that
// reports progress). The first exception sets `stop` for every worker and is rethrown once all
// have joined; a thread that cannot be started leaves its share to the others.
class Workers {
public:
    explicit Workers(std::atomic<bool>& stop) : stop_(stop) {}
    ~Workers() { join(); }

    template <typename Work>
    void run(int threads, Work work) {
        for (int w = 1; w < threads; ++w) {
            try {
                threads_.emplace_back([this, work, w] { guarded(work, w); });
            } catch (const std::system_error&) {
                break;  // fewer threads than asked: the others take up the work
            }
        }
        guarded(work, 0);
        join();
        if (error_) std::rethrow_exception(error_);
    }

private:
    template <typename Work>
    void guarded(const Work& work, int w) {
        try {
            work(w);
        } catch (...) {
            std::lock_guard<std::mutex> lock(mutex_);
            if (!error_) error_ = std::current_exception();
            stop_ = true;
        }
    }
    void join() {
        for (std::thread& t : threads_)
            if (t.joinable()) t.join();
        threads_.clear();
    }

    std::atomic<bool>& stop_;
    std::vector<std::thread> threads_;
    std::mutex mutex_;
    std::exception_ptr error_;
};

int thread_count(int asked, std::size_t layouts) {
    int n = asked > 0 ? asked : static_cast<int>(std::thread::hardware_concurrency());
    n = std::max(1, std::min(n, 256));
    // Small searches are not worth a thread each.
    const std::size_t per_thread = 64;
    return static_cast<int>(std::max<std::size_t>(1, std::min<std::size_t>(n, layouts / per_thread + 1)));
}

// Device limits do not shape the space; the rest is validated with a placeholder device.
Device placeholder_device() {
    Device d;
    d.peak_matmul_flops = d.peak_vector_flops = d.bandwidth_Bps = d.capacity_bytes = 1;
    return d;
}

}  // namespace

std::int64_t plan_space_size(const Graph& g, const Network& net, const PlanSpace& s) {
    const Choices ch = check_space(g, placeholder_device(), net, s);
    std::int64_t total = 0;
    enumerate_layouts(g, net, s, ch, total);
    return total;
}

std::vector<Config> plan_candidates(const Graph& g, const Network& net, const PlanSpace& s) {
    const Choices ch = check_space(g, placeholder_device(), net, s);
    std::int64_t total = 0;
    const std::vector<Layout> layouts = enumerate_layouts(g, net, s, ch, total);
    std::vector<Config> out;
    out.reserve(static_cast<std::size_t>(total));
    for (const Layout& l : layouts)
        for_each_config(l, s, ch, [&](const Config& c, std::int64_t) { out.push_back(c); });
    return out;
}

PlanResult plan(const Graph& g, const Device& d, const Network& net, const PlanSpace& s,
                const PlanProgress& progress, const Graph* timed) {
    const Choices ch = check_space(g, d, net, s);
    if (timed != nullptr) check_space(*timed, d, net, s);
    std::int64_t total = 0;
    const std::vector<Layout> layouts = enumerate_layouts(g, net, s, ch, total);
    const std::size_t k = static_cast<std::size_t>(s.top_k);
    const int threads = thread_count(s.threads, layouts.size());

    std::vector<Tally> tallies(static_cast<std::size_t>(threads));
    std::atomic<std::size_t> next{0};
    std::atomic<std::int64_t> done{0};
    std::atomic<bool> stop{false};
    using Clock = std::chrono::steady_clock;
    auto last_report = Clock::now();

    auto work = [&](int w) {
        Tally& tally = tallies[static_cast<std::size_t>(w)];
        while (!stop) {
            const std::size_t i = next.fetch_add(1);
            if (i >= layouts.size()) break;
            std::int64_t n = 0;
            for_each_config(layouts[i], s, ch, [&](const Config& c, std::int64_t index) {
                Evaluation e = evaluate_step(timed != nullptr ? *timed : g, d, net, c, false);
                if (timed != nullptr) {  // memory at the full length
                    e.memory = memory_per_device(g, d, net, c);
                    require(std::isfinite(e.memory.total()),
                            "result 'memory' is not finite: the inputs are too large");
                    e.fits = e.memory.total() <= d.capacity_bytes;
                }
                tally.add(candidate(c, e, index), k);
                ++n;
            });
            done += n;
            if (w == 0 && progress && Clock::now() - last_report >= std::chrono::duration<double>(kProgressInterval_s)) {
                last_report = Clock::now();
                progress(done.load(), total);
            }
        }
    };
    {
        Workers workers(stop);
        workers.run(threads, work);
    }
    if (progress) progress(total, total);

    PlanResult result;
    result.space = total;
    std::array<std::map<std::int64_t, PlanValue>, kDimensions> dims;
    std::vector<PlanCandidate> kept, points;
    bool any = false;
    for (const Tally& t : tallies) {
        kept.insert(kept.end(), t.heap.begin(), t.heap.end());
        points.insert(points.end(), t.frontier.begin(), t.frontier.end());
        result.fitting += t.fitting;
        if (t.evaluated > 0 && (!any || better(t.fastest, result.fastest))) result.fastest = t.fastest;
        if (t.evaluated > 0 && (!any || leaner(t.leanest, result.leanest))) result.leanest = t.leanest;
        any = any || t.evaluated > 0;
        for (std::size_t i = 0; i < kDimensions; ++i)
            for (const auto& [value, v] : t.dimensions[i]) {
                PlanValue& into = dims[i][value];
                into.value = value;
                merge_value(into, v);
            }
    }
    // Twins kept by different workers: sorted by index first, the simpler one comes first.
    std::sort(kept.begin(), kept.end(),
              [](const PlanCandidate& a, const PlanCandidate& b) { return a.index < b.index; });
    for (const PlanCandidate& x : kept)
        if (std::none_of(result.plans.begin(), result.plans.end(),
                         [&](const PlanCandidate& y) { return same_result(x, y); }))
            result.plans.push_back(x);
    std::sort(result.plans.begin(), result.plans.end(), better);
    if (result.plans.size() > k) result.plans.resize(k);
    std::sort(points.begin(), points.end(),
              [](const PlanCandidate& a, const PlanCandidate& b) { return a.index < b.index; });
    for (const PlanCandidate& x : points) add_to_frontier(result.frontier, x);
    std::sort(result.frontier.begin(), result.frontier.end(), better);
    for (std::size_t i = 0; i < kDimensions; ++i) {
        PlanDimension dim{kDimensionNames[i], {}};
        for (const auto& [value, v] : dims[i]) dim.values.push_back(v);
        result.dimensions.push_back(std::move(dim));
    }
    return result;
}

}  // namespace estimator
