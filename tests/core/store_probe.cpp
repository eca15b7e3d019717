// store_probe: a separate process for the store's fault tests.
//
//   store_probe ingest DB FIRST THREADS [WAL_RESERVE]
//                                         ingest numbered incidents from FIRST upwards on THREADS threads,
//                                         printing "n id" after each acknowledgement, until killed; the
//                                         store reserves WAL_RESERVE bytes for its WAL (default none)
//   store_probe reserve-capped DB LIMIT RESERVE
//                                         with files limited to LIMIT bytes (RLIMIT_FSIZE), open the
//                                         store reserving RESERVE bytes of WAL, print "wal SIZE", ingest
//                                         20 incidents and print "ok" (or "error MESSAGE")
//   store_probe intake-as UID DB [MEDIA]  drop to UID, then try to save a photo and ingest one
//                                         incident; print "ok ID" or "error MESSAGE"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

#include "onegrid/core/spatialite_store.hpp"
#include "store_fixtures.hpp"

using namespace onegrid;

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    if ((args.size() == 4 || args.size() == 5) && args[0] == "ingest") {
        core::SpatialiteOptions o;
        o.path = args[1];
        if (args.size() == 5) o.wal_reserve_bytes = std::stoll(args[4]);
        auto store = core::open_spatialite_store(o);
        const std::int64_t first = std::stoll(args[2]);
        const int threads = std::stoi(args[3]);
        std::mutex out;
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; ++t) {
            pool.emplace_back([&, t] {
                for (std::int64_t n = first + t;; n += threads) {
                    const auto r = store->intake(test::numbered_incident(n));
                    std::lock_guard lock(out);
                    std::printf("%lld %lld\n", static_cast<long long>(n), static_cast<long long>(r.incident.id));
                    std::fflush(stdout);
                }
            });
        }
        for (auto& th : pool) th.join();
        return 0;
    }
    if (args.size() == 4 && args[0] == "reserve-capped") {
        // Writes past the limit fail with EFBIG, as on a disk that is full (the signal the
        // kernel also sends is ignored, as a server would).
        const rlim_t limit = std::stoull(args[2]);
        const rlimit cap{limit, limit};
        if (signal(SIGXFSZ, SIG_IGN) == SIG_ERR || setrlimit(RLIMIT_FSIZE, &cap) != 0) {
            std::cout << "error cannot limit the file size\n";
            return 2;
        }
        try {
            core::SpatialiteOptions o;
            o.path = args[1];
            o.wal_reserve_bytes = std::stoll(args[3]);
            auto store = core::open_spatialite_store(o);
            std::cout << "wal " << std::filesystem::file_size(args[1] + "-wal") << std::endl;
            for (int n = 0; n < 20; ++n) store->intake(test::numbered_incident(n));
            std::cout << "ok\n";
        } catch (const std::exception& e) {
            std::cout << "error " << e.what() << "\n";
        }
        return 0;
    }
    if ((args.size() == 3 || args.size() == 4) && args[0] == "intake-as") {
        const auto uid = static_cast<uid_t>(std::stoul(args[1]));
        if (setgid(uid) != 0 || setuid(uid) != 0) {
            std::cout << "error cannot drop privileges\n";
            return 2;
        }
        try {
            core::SpatialiteOptions o;
            o.path = args[2];
            if (args.size() == 4) o.media_dir = args[3];
            auto store = core::open_spatialite_store(o);
            const std::string photo = "photo bytes";
            auto n = test::numbered_incident(1);
            n.media.push_back(store->save_media(std::as_bytes(std::span<const char>(photo.data(), photo.size())), "image/jpeg"));
            const auto r = store->intake(n);
            std::cout << "ok " << r.incident.id << "\n";
        } catch (const std::exception& e) {
            std::cout << "error " << e.what() << "\n";
        }
        return 0;
    }
    std::cerr << "usage: store_probe ingest DB FIRST THREADS [WAL_RESERVE] | reserve-capped DB LIMIT RESERVE | intake-as UID DB [MEDIA]\n";
    return 2;
}
