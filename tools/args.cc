#include "tools/args.h"

#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace srs::tools {

ArgParser::ArgParser(std::string usage, std::string description)
    : usage_(std::move(usage)), description_(std::move(description)) {}

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

const ArgParser::Option* ArgParser::FindLong(const std::string& name) const {
  for (const Option& option : options_) {
    if (option.name == name) return &option;
  }
  return nullptr;
}

const ArgParser::Option* ArgParser::FindShort(char c) const {
  for (const Option& option : options_) {
    if (option.short_name != 0 && option.short_name == c) return &option;
  }
  return nullptr;
}

// Handles args[*i], which starts with '-', advancing *i past a separate value if it takes one.
absl::Status ArgParser::ParseOption(const std::vector<std::string>& args, size_t* i) {
  const std::string& arg = args[*i];
  const Option* option = nullptr;
  std::string inline_value;
  bool has_inline = false;
  if (absl::StartsWith(arg, "--")) {
    std::string name = arg.substr(2);
    size_t eq = name.find('=');
    if (eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      has_inline = true;
      name = name.substr(0, eq);
    }
    if (name == "help") {
      help_ = true;
      return absl::OkStatus();
    }
    option = FindLong(name);
  } else {
    if (arg == "-h") {
      help_ = true;
      return absl::OkStatus();
    }
    option = FindShort(arg.size() > 1 ? arg[1] : 0);
    if (option != nullptr && arg.size() > 2) {
      inline_value = arg.substr(2);
      has_inline = true;
    }
  }
  if (option == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("unknown option ", arg, " (see --help)"));
  }
  if (!option->takes_value) {
    if (has_inline) {
      return absl::InvalidArgumentError(absl::StrCat("option --", option->name, " takes no value"));
    }
    values_[option->name] = "1";
    return absl::OkStatus();
  }
  if (!has_inline) {
    if (*i + 1 >= args.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("option --", option->name, " needs a value (", option->value_name, ")"));
    }
    inline_value = args[++*i];
  }
  values_[option->name] = inline_value;
  return absl::OkStatus();
}

absl::Status ArgParser::Parse(const std::vector<std::string>& args) {
  std::vector<std::string> positionals;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      if (!takes_command_) {
        positionals.insert(positionals.end(), args.begin() + i + 1, args.end());
      } else {
        command_.assign(args.begin() + i + 1, args.end());
      }
      break;
    }
    if (arg.size() > 1 && arg[0] == '-') {
      absl::Status status = ParseOption(args, &i);
      if (!status.ok()) return status;
      continue;
    }
    if (takes_command_) {
      command_.assign(args.begin() + i, args.end());
      break;
    }
    positionals.push_back(arg);
  }
  if (help_) return absl::OkStatus();
  return CheckPositionals(positionals);
}

absl::Status ArgParser::CheckPositionals(const std::vector<std::string>& positionals) {
  size_t required = 0;
  for (const PositionalSpec& spec : positional_specs_) required += spec.optional ? 0 : 1;
  if (positionals.size() < required) {
    return absl::InvalidArgumentError(
        absl::StrCat("missing ", positional_specs_[positionals.size()].name, "; usage: ", usage_));
  }
  if (!repeated_name_.empty() && positionals.size() > positional_specs_.size()) {
    repeated_.assign(positionals.begin() + positional_specs_.size(), positionals.end());
  } else if (positionals.size() > positional_specs_.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unexpected argument '", positionals[positional_specs_.size()], "'; usage: ", usage_));
  }
  for (size_t i = 0; i < positionals.size() && i < positional_specs_.size(); ++i) {
    positionals_[positional_specs_[i].name] = positionals[i];
  }
  if (takes_command_ && command_.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("no program to run; usage: ", usage_));
  }
  return absl::OkStatus();
}

std::string ArgParser::Help() const {
  std::string text = absl::StrCat("usage: ", usage_, "\n\n", description_, "\n");
  if (!positional_specs_.empty() || !repeated_name_.empty() || takes_command_)
    text += "\narguments:\n";
  for (const PositionalSpec& spec : positional_specs_) {
    absl::StrAppendFormat(&text, "  %-22s %s\n", spec.name, spec.help);
  }
  if (!repeated_name_.empty()) {
    absl::StrAppendFormat(&text, "  %-22s %s\n", repeated_name_ + "...", repeated_help_);
  }
  if (takes_command_) absl::StrAppendFormat(&text, "  %-22s %s\n", "-- PROG ARGS", command_help_);
  text += "\noptions:\n";
  for (const Option& option : options_) {
    std::string left =
        option.short_name != 0 ? absl::StrFormat("-%c, ", option.short_name) : "    ";
    left += "--" + option.name;
    if (option.takes_value) left += " " + option.value_name;
    absl::StrAppendFormat(&text, "  %-22s %s\n", left, option.help);
  }
  absl::StrAppendFormat(&text, "  %-22s %s\n", "-h, --help", "show this help");
  return text;
}

int ArgParser::PrintHelp() const {
  std::fputs(Help().c_str(), stdout);
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
