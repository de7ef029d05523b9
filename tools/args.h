// The command-line parser of the subcommands of `srs`, on CLI11 (Debian libcli11-dev): each
// subcommand declares its options and positional arguments once, and gets parsing, validation,
// one-line errors, its --help text and its part of the bash completion (tools/completion.h) from
// that. (absl/flags keeps flags in one global registry, which does not fit one program with
// several subcommands that give the same name different meanings.)
//
//   ArgParser args("srs stop JOB [--wait]", "Asks a running job to checkpoint and stop.");
//   args.AddFlag("wait", 'w', "wait until the run has stopped");
//   args.AddPositional("JOB", "the job's name");
//   SRS_RETURN_IF_ERROR(args.Parse(argc, argv));
//   if (args.help()) { std::cout << args.Help(); return 0; }
//
// Every parser also has -h/--help and -q/--quiet (no progress or chatter, only results and
// errors). Spellings: --name VALUE, --name=VALUE, -s VALUE, -sVALUE; "--" ends the options.
#ifndef SRS_TOOLS_ARGS_H_
#define SRS_TOOLS_ARGS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace CLI {
class App;
}

namespace srs::tools {

// What a subcommand accepts, for generated completions: long names (without "--"), short
// letters (0 if none), whether each takes a value, positional names, and whether the rest of
// the line is a program to run.
struct CommandSpec {
  struct Option {
    std::string name;
    char short_name = 0;
    bool takes_value = false;
    std::string value_name;
    std::string help;
  };
  std::string name;  // the subcommand: the second word of the usage line ("srs stop ..." -> stop)
  std::vector<Option> options;
  std::vector<std::string> positionals;
  bool takes_command = false;
};

class ArgParser {
 public:
  ArgParser(std::string usage, std::string description);
  ~ArgParser();

  // A boolean option, --name (or -s when short_name != 0).
  void AddFlag(const std::string& name, char short_name, const std::string& help);
  // An option with a value: --name VALUE, --name=VALUE, -s VALUE, -sVALUE; the last one wins.
  void AddValue(const std::string& name, char short_name, const std::string& value_name,
                const std::string& help);
  // A positional argument, required unless `optional`.
  void AddPositional(const std::string& name, const std::string& help, bool optional = false);
  // Any number of trailing positionals (after the declared ones), e.g. NAME... .
  void AddRepeatedPositional(const std::string& name, const std::string& help);
  // Everything from the first non-option (or after "--") is a command line to run (srs run).
  void TakeCommandAfterOptions(const std::string& help);

  // Parses the arguments after the subcommand name. INVALID_ARGUMENT with one line naming the
  // bad argument ("unknown option --x", "missing JOB; usage: ...", "option --e needs a value").
  absl::Status Parse(const std::vector<std::string>& args);

  bool help() const { return help_; }
  // -q/--quiet was given.
  bool quiet() const { return Has("quiet"); }
  std::string Help() const;
  // Prints Help() on stdout; returns exit code 0.
  int PrintHelp() const;

  bool Has(const std::string& name) const;
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  // The value as an integer >= min; INVALID_ARGUMENT naming the option otherwise.
  absl::StatusOr<int64_t> GetInt(const std::string& name, int64_t fallback, int64_t min) const;
  std::string Positional(const std::string& name) const;
  const std::vector<std::string>& command() const { return command_; }
  const std::vector<std::string>& repeated() const { return repeated_; }

  CommandSpec Spec() const;

  // While a sink is set (by `srs completion`), Parse() appends this parser's Spec() to it and
  // acts as if --help had been given, and PrintHelp() prints nothing: running each subcommand
  // with {"--help"} then collects every definition without a second copy of them. nullptr ends it.
  static void SetSpecSink(std::vector<CommandSpec>* sink);

 private:
  std::unique_ptr<CLI::App> BuildApp() const;
  absl::Status Collect(const CLI::App& app);
  absl::Status Misuse(const std::string& what) const;

  std::string usage_;
  std::string description_;
  std::vector<CommandSpec::Option> options_;
  struct PositionalSpec {
    std::string name;
    std::string help;
    bool optional;
  };
  std::vector<PositionalSpec> positional_specs_;
  std::string repeated_name_;
  std::string repeated_help_;
  std::vector<std::string> repeated_;
  bool takes_command_ = false;
  std::string command_help_;
  bool help_ = false;
  std::map<std::string, std::string> values_;
  std::map<std::string, std::string> positionals_;
  std::vector<std::string> command_;
};

}  // namespace srs::tools

#endif  // SRS_TOOLS_ARGS_H_
