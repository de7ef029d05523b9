// `srs bench [--list] [--json] [NAME...] [-- ARGS]`: runs the benchmark executables srs-bench-NAME
// that are installed next to `srs`, one after the other, passing --json and ARGS through.
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/daemons.h"
#include "tools/format.h"

namespace srs::tools {
namespace {

constexpr char kPrefix[] = "srs-bench-";

// NAME -> path, for every executable srs-bench-NAME next to srs.
std::vector<std::pair<std::string, std::string>> FindBenchmarks() {
  std::vector<std::pair<std::string, std::string>> found;
  std::string dir = SelfDirectory();
  DIR* handle = opendir(dir.c_str());
  if (handle == nullptr) return found;
  while (dirent* entry = readdir(handle)) {
    std::string file = entry->d_name;
    if (!absl::StartsWith(file, kPrefix) || file.size() == sizeof(kPrefix) - 1) continue;
    std::string path = dir + "/" + file;
    if (access(path.c_str(), X_OK) != 0) continue;
    found.emplace_back(file.substr(sizeof(kPrefix) - 1), path);
  }
  closedir(handle);
  std::sort(found.begin(), found.end());
  return found;
}

int RunBenchmark(const std::string& path, const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {path};
  argv.insert(argv.end(), extra.begin(), extra.end());
  std::vector<char*> cargv;
  for (std::string& arg : argv) cargv.push_back(arg.data());
  cargv.push_back(nullptr);
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    execv(cargv[0], cargv.data());
    _exit(127);
  }
  if (pid < 0) return 1;
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
}

}  // namespace

int BenchCommand(const Args& argv) {
  ArgParser args("srs bench [--list] [--json] [--tiny] [NAME...] [-- ARGS]",
                 "Runs the SRS benchmarks (srs-bench-NAME executables next to srs): by default\n"
                 "srs-bench-all (every figure, in one report), or the NAMEs given. --json asks\n"
                 "each for one JSON result line (JSON Lines overall); ARGS after -- go to every\n"
                 "benchmark.");
  args.AddFlag("list", 'l', "list the benchmarks found and exit");
  args.AddFlag("json", 'j', "machine-readable results (passed to each benchmark)");
  args.AddFlag("tiny", 't', "the smallest sizes, a quick check that everything runs (passed on)");
  args.AddRepeatedPositional("NAME", "the benchmarks to run (default: all)");
  std::vector<std::string> mine = argv;
  std::vector<std::string> extra;
  auto dashdash = std::find(mine.begin(), mine.end(), "--");
  if (dashdash != mine.end()) {
    extra.assign(dashdash + 1, mine.end());
    mine.erase(dashdash, mine.end());
  }
  absl::Status parsed = args.Parse(mine);
  if (!parsed.ok()) return Fail("bench", parsed);
  if (args.help()) return args.PrintHelp();

  std::vector<std::pair<std::string, std::string>> all = FindBenchmarks();
  if (all.empty()) {
    return Fail("bench",
                absl::NotFoundError(absl::StrCat("no srs-bench-* executables next to srs in ",
                                                 SelfDirectory(), " (build the bench targets)")));
  }
  if (args.Has("list")) {
    for (const auto& [name, path] : all) std::printf("%s\t%s\n", name.c_str(), path.c_str());
    return 0;
  }
  const std::vector<std::string>& wanted = args.repeated();
  std::vector<std::pair<std::string, std::string>> chosen;
  for (const std::string& name : wanted) {
    auto it = std::find_if(all.begin(), all.end(), [&](const auto& b) { return b.first == name; });
    if (it == all.end()) {
      std::vector<std::string> names;
      for (const auto& b : all) names.push_back(b.first);
      return Fail("bench",
                  absl::NotFoundError(absl::StrCat("no benchmark '", name,
                                                   "'; available: ", absl::StrJoin(names, ", "))));
    }
    chosen.push_back(*it);
  }
  if (chosen.empty()) {
    // srs-bench-all runs every other benchmark at the standard sizes and rank counts and makes
    // one report of them (its own --json included); running the others again would repeat it.
    auto whole =
        std::find_if(all.begin(), all.end(), [](const auto& b) { return b.first == "all"; });
    if (whole != all.end()) {
      chosen.push_back(*whole);
    } else {
      chosen = all;
    }
  }
  if (args.Has("tiny")) extra.insert(extra.begin(), "--tiny");
  if (args.Has("json")) extra.insert(extra.begin(), "--json");
  int worst = 0;
  for (const auto& [name, path] : chosen) {
    if (!args.Has("json") && !args.quiet()) std::printf("== %s\n", name.c_str());
    int code = RunBenchmark(path, extra);
    if (code != 0) {
      std::fprintf(stderr, "srs bench: %s failed with status %d\n", name.c_str(), code);
      worst = code;
    }
  }
  return worst;
}

}  // namespace srs::tools
