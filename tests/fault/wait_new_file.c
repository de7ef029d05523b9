/* wait_new_file: blocks until a file that was not there at start appears anywhere under DIR
 * (recursively) whose name ends with SUFFIX (default: any), prints its path and exits 0; exits 1
 * after TIMEOUT_MS. The fault driver uses it
 * to kill a job right after a checkpoint write began: a rank's piece (or the depot's temporary
 * file) shows up in the depot's directory before the checkpoint can be committed.
 *
 *   wait_new_file DIR TIMEOUT_MS [SUFFIX]
 *
 * The fault tests watch the depot's spool/ directory, where a piece lives only while it is being
 * written (a rank's <id>.h5 on the shared-host path, the depot's <id>.part for a streamed put);
 * pieces/ also changes when a committed checkpoint is pinned (.meta rewrites) and when a piece is
 * adopted (rename), both too late to count as "during the write". *
 * With WAIT_NEW_FILE_KILL="PID PID ..." in the environment it sends SIGKILL to those processes
 * the moment it sees the file, before printing: a shell that learned of the file first and then
 * walked the job's process tree would often kill only after a small checkpoint had committed.
 *
 * It polls every millisecond (a few entries per scan), which is fast next to a checkpoint write
 * that fsyncs. A file that appears and disappears between two scans is missed; the driver does
 * not count on a hit, it asks the RSS afterwards whether the killed run left a checkpoint
 * unfinished. */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#define MAX_NAMES 4096
#define MAX_PATH 1024

static char known[MAX_NAMES][MAX_PATH];
static int n_known;
static const char* suffix = "";

static int has_suffix(const char* name) {
  size_t n = strlen(name), k = strlen(suffix);
  return n >= k && strcmp(name + n - k, suffix) == 0;
}

static int is_known(const char* path) {
  for (int i = 0; i < n_known; ++i)
    if (strcmp(known[i], path) == 0) return 1;
  return 0;
}

/* Scans dir; in `record` mode remembers every path, else returns 1 (with `found` set) at the
 * first path not remembered. */
static int scan(const char* dir, int record, char* found) {
  DIR* d = opendir(dir);
  if (!d) return 0;
  struct dirent* e;
  int hit = 0;
  while (!hit && (e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    char path[MAX_PATH];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    struct stat st;
    if (lstat(path, &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      hit = scan(path, record, found);
      continue;
    }
    if (record) {
      if (n_known < MAX_NAMES) snprintf(known[n_known++], MAX_PATH, "%s", path);
    } else if (has_suffix(e->d_name) && !is_known(path)) {
      snprintf(found, MAX_PATH, "%s", path);
      hit = 1;
    }
  }
  closedir(d);
  return hit;
}

/* SIGKILLs every pid listed in $WAIT_NEW_FILE_KILL (space separated). */
static void kill_listed(void) {
  const char* list = getenv("WAIT_NEW_FILE_KILL");
  if (list == NULL) return;
  char* end = NULL;
  for (long pid = strtol(list, &end, 10); end != list; pid = strtol(list, &end, 10)) {
    if (pid > 0) kill((pid_t)pid, SIGKILL);
    list = end;
  }
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    fprintf(stderr, "usage: wait_new_file DIR TIMEOUT_MS [SUFFIX]\n");
    return 2;
  }
  if (argc == 4) suffix = argv[3];
  char found[MAX_PATH];
  scan(argv[1], 1, found);
  double deadline = now_ms() + atof(argv[2]);
  struct timespec tick = {0, 1000000L};
  while (now_ms() < deadline) {
    if (scan(argv[1], 0, found)) {
      kill_listed();
      printf("%s\n", found);
      return 0;
    }
    nanosleep(&tick, NULL);
  }
  return 1;
}
