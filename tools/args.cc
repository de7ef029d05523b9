#include "tools/args.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace srs::tools {
namespace {

std::vector<CommandSpec>* g_spec_sink = nullptr;

// CLI11's help, with our "usage: srs CMD ..." line (the one the errors quote) in place of its
// generated one.
class UsageFormatter : public CLI::Formatter {
 public:
  UsageFormatter(std::string usage, std::string description)
      : usage_(std::move(usage)), description_(std::move(description)) {}
  std::string make_description(const CLI::App*) const override { return ""; }
  std::string make_usage(const CLI::App*, std::string) const override {
    return "usage: " + usage_ + "\n\n" + description_ + "\n";
  }

 private:
  std::string usage_;
  std::string description_;
};

std::string CliNames(const CommandSpec::Option& option) {
  std::string names = option.short_name != 0 ? std::string("-") + option.short_name + "," : "";
  return names + "--" + option.name;
}

}  // namespace

ArgParser::ArgParser(std::string usage, std::string description)
    : usage_(std::move(usage)), description_(std::move(description)) {
  options_.push_back({"quiet", 'q', false, "", "no progress or chatter: only results and errors"});
}

ArgParser::~ArgParser() = default;

void ArgParser::SetSpecSink(std::vector<CommandSpec>* sink) { g_spec_sink = sink; }

void ArgParser::AddFlag(const std::string& name, char short_name, const std::string& help) {
  options_.push_back({name, short_name, false, "", help});
}

void ArgParser::AddValue(const std::string& name, char short_name, const std::string& value_name,
                         const std::string& help) {
  options_.push_back({name, short_name, true, value_name, help});
}

void ArgParser::AddPositional(const std::string& name, const std::string& help, bool optional) {
  positional_specs_.push_back({name, help, optional});
}

void ArgParser::AddRepeatedPositional(const std::string& name, const std::string& help) {
  repeated_name_ = name;
  repeated_help_ = help;
}

void ArgParser::TakeCommandAfterOptions(const std::string& help) {
  takes_command_ = true;
  command_help_ = help;
}

CommandSpec ArgParser::Spec() const {
  CommandSpec spec;
  std::vector<std::string> words = absl::StrSplit(usage_, ' ', absl::SkipEmpty());
  spec.name = words.size() > 1 ? words[1] : usage_;
  spec.options = options_;
  for (const PositionalSpec& p : positional_specs_) spec.positionals.push_back(p.name);
  if (!repeated_name_.empty()) spec.positionals.push_back(repeated_name_ + "...");
  spec.takes_command = takes_command_;
  return spec;
}

// The CLI11 definition of this parser. Extras are allowed so that unknown options and surplus
// arguments get our one-line wording (and, for srs run, become the program's command line).
std::unique_ptr<CLI::App> ArgParser::BuildApp() const {
  auto app = std::make_unique<CLI::App>(description_, Spec().name);
  app->formatter(std::make_shared<UsageFormatter>(usage_, description_));
  app->allow_extras();
  if (takes_command_) app->prefix_command();
  for (const CommandSpec::Option& option : options_) {
    if (option.takes_value) {
      app->add_option(CliNames(option), option.help)
          ->type_name(option.value_name)
          ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    } else {
      // No --flag=VALUE: CLI11 would take --json=no as set (the old parser refused any value).
      app->add_flag(CliNames(option), option.help)->disable_flag_override();
    }
  }
  for (const PositionalSpec& spec : positional_specs_) {
    app->add_option(spec.name, spec.help)->required(!spec.optional);
  }
  if (!repeated_name_.empty()) {
    app->add_option(repeated_name_, repeated_help_)
        ->expected(-1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  }
  if (takes_command_) {
    app->footer(absl::StrCat("PROG ARGS (after the options, or after --): ", command_help_));
  }
  return app;
}

absl::Status ArgParser::Misuse(const std::string& what) const {
  return absl::InvalidArgumentError(absl::StrCat(what, "; usage: ", usage_));
}

// Reads the parsed values out of `app`, and words what CLI11 left over.
absl::Status ArgParser::Collect(const CLI::App& app) {
  for (const CommandSpec::Option& option : options_) {
    const CLI::Option* parsed = app.get_option("--" + option.name);
    if (parsed->count() == 0) continue;
    values_[option.name] = option.takes_value ? parsed->results().back() : "1";
  }
  for (const PositionalSpec& spec : positional_specs_) {
    const CLI::Option* parsed = app.get_option(spec.name);
    if (parsed->count() > 0) positionals_[spec.name] = parsed->results().front();
  }
  if (!repeated_name_.empty()) repeated_ = app.get_option(repeated_name_)->results();
  std::vector<std::string> rest = app.remaining();
  if (takes_command_) {
    if (!rest.empty() && rest.front() == "--")
      rest.erase(rest.begin());
    else if (!rest.empty() && rest.front().size() > 1 && rest.front()[0] == '-') {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown option ", rest.front(), " (see --help)"));
    }
    command_ = rest;
    if (command_.empty()) return Misuse("no program to run");
    return absl::OkStatus();
  }
  rest.erase(std::remove(rest.begin(), rest.end(), "--"), rest.end());
  if (rest.empty()) return absl::OkStatus();
  if (rest.front().size() > 1 && rest.front()[0] == '-') {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown option ", rest.front(), " (see --help)"));
  }
  return Misuse(absl::StrCat("unexpected argument '", rest.front(), "'"));
}

absl::Status ArgParser::Parse(const std::vector<std::string>& args) {
  if (g_spec_sink != nullptr) {
    g_spec_sink->push_back(Spec());
    help_ = true;
    return absl::OkStatus();
  }
  std::unique_ptr<CLI::App> app = BuildApp();
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them reversed
  try {
    app->parse(reversed);
  } catch (const CLI::CallForHelp&) {
    help_ = true;
    return absl::OkStatus();
  } catch (const CLI::RequiredError&) {
    for (const PositionalSpec& spec : positional_specs_) {
      if (app->get_option(spec.name)->count() == 0) return Misuse("missing " + spec.name);
    }
    return Misuse("a required argument is missing");
  } catch (const CLI::ArgumentMismatch& e) {
    for (const CommandSpec::Option& option : options_) {
      if (!option.takes_value && absl::StrContains(e.what(), "flag override") &&
          absl::StartsWith(e.what(), option.name + " ")) {
        return Misuse(absl::StrCat("option --", option.name, " takes no value"));
      }
      if (option.takes_value && absl::StartsWith(e.what(), "--" + option.name + ":")) {
        return absl::InvalidArgumentError(
            absl::StrCat("option --", option.name, " needs a value (", option.value_name, ")"));
      }
    }
    return Misuse(e.what());
  } catch (const CLI::ParseError& e) {
    // e.g. a value given to a flag (--wait=3)
    return Misuse(e.what());
  }
  return Collect(*app);
}

std::string ArgParser::Help() const { return BuildApp()->help(); }

int ArgParser::PrintHelp() const {
  if (g_spec_sink == nullptr) std::fputs(Help().c_str(), stdout);
  return 0;
}

bool ArgParser::Has(const std::string& name) const { return values_.count(name) > 0; }

std::string ArgParser::Get(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

absl::StatusOr<int64_t> ArgParser::GetInt(const std::string& name, int64_t fallback,
                                          int64_t min) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  int64_t value = 0;
  if (!absl::SimpleAtoi(it->second, &value) || value < min) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, " must be an integer >= ", min, ", got '", it->second, "'"));
  }
  return value;
}

std::string ArgParser::Positional(const std::string& name) const {
  auto it = positionals_.find(name);
  return it == positionals_.end() ? "" : it->second;
}

}  // namespace srs::tools
