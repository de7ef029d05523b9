// A private srs-rss and srs-depot for one benchmark run: started on free loopback ports (port 0;
// the port comes from the daemon's "... listening on HOST:PORT" line) with their state under a
// work directory, and always stopped (SIGTERM, then SIGKILL after a grace period) by Stop(), by
// the destructor, or by the signal handler installed for SIGINT/SIGTERM.
#ifndef SRS_BENCH_SUITE_DAEMONS_H_
#define SRS_BENCH_SUITE_DAEMONS_H_

#include <sys/types.h>

#include <string>
#include <vector>

namespace srs::bench {

struct DaemonPaths {
  std::string rss_bin;
  std::string depot_bin;
};

// Finds srs-rss/srs-depot: explicit paths if set, else next to this executable, else the build
// tree's (bench_paths.h). Empty strings when not found.
DaemonPaths FindDaemons(const std::string& rss_override, const std::string& depot_override);

class Daemons {
 public:
  Daemons() = default;
  ~Daemons();
  Daemons(const Daemons&) = delete;
  Daemons& operator=(const Daemons&) = delete;

  // Starts the RSS (state in workdir/rss) and one depot (workdir/depot); false with a message
  // on stderr (the daemon's own stderr included) on failure.
  bool Start(const DaemonPaths& paths, const std::string& workdir);
  void Stop();

  const std::string& rss_address() const { return rss_address_; }
  const std::string& depot_address() const { return depot_address_; }
  std::string token_file() const { return workdir_ + "/rss/admin.token"; }
  std::string depot_dir() const { return workdir_ + "/depot"; }

 private:
  bool Spawn(const std::vector<std::string>& argv, const std::string& log, std::string* address);

  std::string workdir_;
  std::string rss_address_;
  std::string depot_address_;
  std::vector<pid_t> pids_;
};

}  // namespace srs::bench

#endif  // SRS_BENCH_SUITE_DAEMONS_H_
