#include "common/owner_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace srs {
namespace {

struct Entry {
  std::string rss, job, secret;
};

std::vector<Entry> ReadEntries(const std::string& path) {
  std::vector<Entry> entries;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> fields = absl::StrSplit(line, '\t');
    if (fields.size() == 3) entries.push_back({fields[0], fields[1], fields[2]});
  }
  return entries;
}

absl::Status Errno(const std::string& what, const std::string& path) {
  return absl::PermissionDeniedError(
      absl::StrCat("owner secrets: cannot ", what, " ", path, ": ", std::strerror(errno)));
}

absl::Status MakeParent(const std::string& path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return absl::OkStatus();
  std::error_code ec;
  if (std::filesystem::create_directories(parent, ec)) chmod(parent.c_str(), 0700);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat("owner secrets: cannot create ", parent.string(), ": ", ec.message()));
  }
  return absl::OkStatus();
}

absl::Status WriteEntries(const std::string& path, const std::vector<Entry>& entries) {
  std::string text;
  for (const Entry& e : entries) absl::StrAppend(&text, e.rss, "\t", e.job, "\t", e.secret, "\n");
  std::string tmp = absl::StrCat(path, ".tmp.", getpid());
  int fd = open(tmp.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("write", tmp);
  bool ok = fchmod(fd, 0600) == 0 &&
            write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            fsync(fd) == 0;
  close(fd);
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    absl::Status status = Errno("write", path);
    unlink(tmp.c_str());
    return status;
  }
  return absl::OkStatus();
}

}  // namespace

std::string DefaultOwnerFile() {
  const char* state = std::getenv("XDG_STATE_HOME");
  if (state != nullptr && state[0] == '/') return absl::StrCat(state, "/srs/owners");
  const char* home = std::getenv("HOME");
  if (home != nullptr && home[0] != '\0') return absl::StrCat(home, "/.local/state/srs/owners");
  return "";
}

absl::StatusOr<std::string> ReadOwnerSecret(const std::string& path, const std::string& rss,
                                            const std::string& job) {
  for (const Entry& e : ReadEntries(path)) {
    if (e.rss == rss && e.job == job) return e.secret;
  }
  return absl::NotFoundError(
      absl::StrCat("no owner secret for job ", job, " of the RSS ", rss, " in ", path));
}

absl::Status StoreOwnerSecret(const std::string& path, const std::string& rss,
                              const std::string& job, const std::string& secret) {
  if (path.empty()) {
    return absl::FailedPreconditionError(
        "owner secrets: no place to keep them (set owner_file, XDG_STATE_HOME or HOME)");
  }
  for (const std::string* field : {&rss, &job, &secret}) {
    if (field->find_first_of("\t\n\r") != std::string::npos) {
      return absl::InvalidArgumentError(
          "owner secrets: a tab or newline in the RSS, job or secret");
    }
  }
  absl::Status made = MakeParent(path);
  if (!made.ok()) return made;
  std::string lock_path = path + ".lock";
  int lock = open(lock_path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
  if (lock < 0) return Errno("open", lock_path);
  if (flock(lock, LOCK_EX) != 0) {
    absl::Status status = Errno("lock", lock_path);
    close(lock);
    return status;
  }
  std::vector<Entry> entries;
  for (Entry& e : ReadEntries(path)) {
    if (e.rss != rss || e.job != job) entries.push_back(std::move(e));
  }
  entries.push_back({rss, job, secret});
  absl::Status status = WriteEntries(path, entries);
  close(lock);  // releases the flock
  return status;
}

std::vector<std::string> OwnedJobs(const std::string& path, const std::string& rss) {
  std::vector<std::string> jobs;
  for (const Entry& e : ReadEntries(path)) {
    if (e.rss == rss) jobs.push_back(e.job);
  }
  return jobs;
}

}  // namespace srs
