// The workflow's hot paths: persisted transitions (register → dispatch → accept, each checked,
// logged and committed durably) with one and with 32 concurrent callers, and the deadline scan
// over 1,000,000 open incidents.

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "onegrid/data/demo_district.hpp"
#include "workflow_fixture.hpp"

using namespace onegrid;
using namespace onegrid::core;

namespace {

void transitions(benchmark::State& state, int callers) {
    const int per_caller = static_cast<int>(state.range(0)) / callers;
    for (auto _ : state) {
        state.PauseTiming();
        test::WorkflowWorld w("bench_transitions");
        std::vector<std::vector<IncidentId>> ids(static_cast<std::size_t>(callers));
        for (int c = 0; c < callers; ++c) {
            std::vector<NewIncident> batch;
            for (int k = 0; k < per_caller; ++k) {
                auto n = test::numbered_incident(c * 1'000'000 + k);
                n.incident.category = "0101";
                n.incident.department = "cgj";
                n.incident.town = "370614001";
                batch.push_back(n);
            }
            for (const auto& r : w.store->intake_many(batch)) ids[static_cast<std::size_t>(c)].push_back(r.incident.id);
        }
        state.ResumeTiming();
        const auto t0 = std::chrono::steady_clock::now();
        std::vector<std::thread> threads;
        for (int c = 0; c < callers; ++c) {
            threads.emplace_back([&, c] {
                for (IncidentId id : ids[static_cast<std::size_t>(c)]) {
                    w.workflow->act(id, Action::register_case, w.operator_());
                    w.workflow->act(id, Action::dispatch, w.centre());
                    w.workflow->act(id, Action::accept, w.handler("cgj"));
                }
            });
        }
        for (auto& t : threads) t.join();
        state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    state.SetItemsProcessed(state.iterations() * 3 * per_caller * callers);
}

}  // namespace

static void BM_Transitions_1Caller(benchmark::State& state) { transitions(state, 1); }
BENCHMARK(BM_Transitions_1Caller)->Arg(1000)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(1);

static void BM_Transitions_32Callers(benchmark::State& state) { transitions(state, 32); }
BENCHMARK(BM_Transitions_32Callers)->Arg(16000)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(1);

namespace {

// 1,000,000 open, dispatched incidents whose next checks spread over 30 days.
Store& deadline_store() {
    static std::unique_ptr<Store> store = [] {
        const char* env = std::getenv("ONEGRID_BENCH_DIR");
        const std::filesystem::path dir = env != nullptr ? env : "/tmp/onegrid-bench";
        std::filesystem::create_directories(dir);
        SpatialiteOptions o;
        o.path = dir / "deadlines.db";
        auto s = open_spatialite_store(o);
        if (s->count_incidents({}) != 1'000'000) {
            s.reset();
            std::filesystem::remove(o.path);
            std::filesystem::remove_all(o.path.string() + ".media");
            s = open_spatialite_store(o);
            data::Random rng(17);
            const Timestamp base = 1'772'409'600'000;  // 2026-03-02
            for (std::int64_t start = 0; start < 1'000'000; start += 20000) {
                std::vector<NewIncident> batch;
                for (std::int64_t n = start; n < start + 20000; ++n) {
                    auto ni = test::numbered_incident(n, "d");
                    ni.incident.status = Status::dispatched;
                    ni.incident.department = "cgj";
                    ni.incident.next_check_at = base + static_cast<Timestamp>(rng.uniform(0, 30) * ms_per_day);
                    ni.incident.due_at = *ni.incident.next_check_at + 6 * ms_per_hour;
                    batch.push_back(std::move(ni));
                }
                s->intake_many(batch);
            }
        }
        return s;
    }();
    return *store;
}

}  // namespace

static void BM_DeadlineScan_1MOpen(benchmark::State& state) {
    // The scheduler's question: which of the 1,000,000 open cases have a warning or escalation due
    // now? The checks spread over the next 30 days, so an hour's worth (~1,400) is due; the
    // index on the check time finds them without reading the rest.
    Store& store = deadline_store();
    const Timestamp now = 1'772'409'600'000 + ms_per_hour;
    std::size_t found = 0;
    for (auto _ : state) {
        const auto due = store.due_checks(now, 1'000'000);
        found = due.size();
        benchmark::DoNotOptimize(due.data());
    }
    state.counters["due_found"] = static_cast<double>(found);
    state.counters["open_cases"] = 1'000'000;
}
BENCHMARK(BM_DeadlineScan_1MOpen)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
