// A small command-line parser for the subcommands of `srs`: each subcommand declares its options
// and positional arguments once, and gets parsing, one-line errors and its --help text from that.
// (absl/flags keeps flags in one global registry, which does not fit one program with several
// subcommands that give the same name different meanings.)
//
//   ArgParser args("srs stop JOB [--wait]", "Asks a running job to checkpoint and stop.");
//   args.AddFlag("wait", 'w', "wait until the run has stopped");
//   args.AddPositional("JOB", "the job's name");
//   SRS_RETURN_IF_ERROR(args.Parse(argc, argv));
//   if (args.help()) { std::cout << args.Help(); return 0; }
#ifndef SRS_TOOLS_ARGS_H_
#define SRS_TOOLS_ARGS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace srs::tools {

class ArgParser {
 public:
  ArgParser(std::string usage, std::string description);

  // A boolean option, --name (or -s when short_name != 0).
  void AddFlag(const std::string& name, char short_name, const std::string& help);
  // An option with a value: --name VALUE, --name=VALUE, -s VALUE, -sVALUE.
  void AddValue(const std::string& name, char short_name, const std::string& value_name,
                const std::string& help);
  // A positional argument, required unless `optional`.
  void AddPositional(const std::string& name, const std::string& help, bool optional = false);
  // Any number of trailing positionals (after the declared ones), e.g. NAME... .
  void AddRepeatedPositional(const std::string& name, const std::string& help);
  // Everything from the first non-option (or after "--") is a command line to run (srs run).
  void TakeCommandAfterOptions(const std::string& help);

  // Parses the arguments after the subcommand name. INVALID_ARGUMENT names the bad argument.
  absl::Status Parse(const std::vector<std::string>& args);

  bool help() const { return help_; }
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

 private:
  struct Option {
    std::string name;
    char short_name;
    bool takes_value;
    std::string value_name;
    std::string help;
  };
  struct PositionalSpec {
    std::string name;
    std::string help;
    bool optional;
  };
  const Option* FindLong(const std::string& name) const;
  const Option* FindShort(char c) const;
  absl::Status ParseOption(const std::vector<std::string>& args, size_t* i);
  absl::Status CheckPositionals(const std::vector<std::string>& positionals);

  std::string usage_;
  std::string description_;
  std::vector<Option> options_;
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
