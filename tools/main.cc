// `srs`: the command line of Stop Restart Software (DESIGN.md §6). One program, one file per
// subcommand; `srs help` or `srs CMD --help` explains each.
#include <cstdio>
#include <cstring>
#include <string>

#include "common/log.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/completion.h"

namespace {

struct Subcommand {
  const char* name;
  int (*run)(const srs::tools::Args&);
  const char* summary;
};

const Subcommand kSubcommands[] = {
    {"run", srs::tools::RunCommand, "run a job under mpiexec (private RSS and depot if none)"},
    {"stop", srs::tools::StopCommand, "ask a job to checkpoint and stop"},
    {"checkpoint", srs::tools::CheckpointCommand, "ask a job to checkpoint and go on"},
    {"status", srs::tools::StatusCommand, "jobs, their state and last checkpoint"},
    {"ls", srs::tools::LsCommand, "a job's checkpoints: pieces, depots, sizes, checksums, timings"},
    {"history", srs::tools::HistoryCommand, "every configuration a job ran with"},
    {"depots", srs::tools::DepotsCommand, "the depots the RSS knows: address, state, free space"},
    {"repair", srs::tools::RepairCommand, "re-create a job's missing checkpoint copies"},
    {"drop", srs::tools::DropCommand, "remove one checkpoint of a job (srs drop JOB --epoch E)"},
    {"export", srs::tools::ExportCommand, "a checkpoint as one HDF5 file of global arrays"},
    {"bench", srs::tools::BenchCommand, "run the srs-bench-* benchmarks"},
};

void PrintUsage(FILE* out) {
  std::fprintf(out,
               "usage: srs COMMAND [OPTIONS] [ARGS]\n\n"
               "Stop Restart Software: run, stop, resume and inspect malleable MPI jobs.\n\n"
               "commands:\n");
  for (const Subcommand& sub : kSubcommands) {
    std::fprintf(out, "  %-11s %s\n", sub.name, sub.summary);
  }
  std::fprintf(out, "  %-11s %s\n", "completion", "print a bash completion script (bash)");
  std::fprintf(out,
               "\n`srs COMMAND --help` describes a command. Without `rss` in srs.config (or\n"
               "SRS_RSS) the commands use a private srs-rss and srs-depot under ./.srs/.\n"
               "`srs --version` prints the version.\n");
}

// `srs completion bash`: each subcommand run with --help while ArgParser collects its definition.
int CompletionCommand(const srs::tools::Args& args) {
  if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
    std::printf(
        "usage: srs completion bash\n\nPrints a bash completion script for srs, generated from "
        "the\ncommands' own option definitions. Try: source <(srs completion bash)\n");
    return 0;
  }
  if (args.size() != 1 || args[0] != "bash") {
    std::fprintf(stderr, "srs completion: only 'bash' is supported; usage: srs completion bash\n");
    return 2;
  }
  std::vector<srs::tools::CommandSpec> specs;
  std::vector<std::string> names;
  srs::tools::ArgParser::SetSpecSink(&specs);
  for (const Subcommand& sub : kSubcommands) {
    names.push_back(sub.name);
    sub.run({"--help"});
  }
  srs::tools::ArgParser::SetSpecSink(nullptr);
  names.push_back("completion");
  names.push_back("help");
  std::fputs(srs::tools::BashCompletion(names, specs).c_str(), stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  srs::InitLogLevelFromEnv();
  srs::SetLogComponent("srs");
  if (argc < 2) {
    PrintUsage(stderr);
    return 2;
  }
  std::string name = argv[1];
  if (name == "--version" || name == "version") {
    std::printf("srs %s\n", SRS_PROJECT_VERSION);
    return 0;
  }
  if (name == "help" || name == "--help" || name == "-h") {
    if (argc > 2) {
      srs::tools::Args help_args = {"--help"};
      if (std::string(argv[2]) == "completion") return CompletionCommand(help_args);
      for (const Subcommand& sub : kSubcommands) {
        if (sub.name == std::string(argv[2])) return sub.run(help_args);
      }
    }
    PrintUsage(stdout);
    return 0;
  }
  srs::tools::Args args(argv + 2, argv + argc);
  if (name == "completion") return CompletionCommand(args);
  for (const Subcommand& sub : kSubcommands) {
    if (name == sub.name) return sub.run(args);
  }
  std::fprintf(stderr, "srs: unknown command '%s' (srs help lists the commands)\n", name.c_str());
  return 2;
}
