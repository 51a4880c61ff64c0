// Runs this program again in a fresh child process (posix_spawn of
// /proc/self/exe) and reads its "key value" lines with a deadline.
//
// Probes that may hang (a pool that deadlocks) or that read per-process
// counters (threads alive, peak RSS) run this way: the parent never hangs and
// each peer starts from a clean process.
#ifndef SETTLE_BENCHMARKS_PEERS_CHILD_PROCESS_HPP
#define SETTLE_BENCHMARKS_PEERS_CHILD_PROCESS_HPP

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace peers {

struct child_process {
  pid_t pid = -1;
  int output = -1;  // read end of the child's stdout
  std::string error;
};

struct child_result {
  std::string status;  // "ok", "timed out", "exit status N", "killed by signal N", or a spawn error
  std::map<std::string, std::string> values;
  [[nodiscard]] bool ok() const { return status == "ok"; }
  [[nodiscard]] std::string get(const std::string& key, const std::string& otherwise = "") const {
    auto it = values.find(key);
    return it == values.end() ? otherwise : it->second;
  }
};

/// Starts `/proc/self/exe args...` with its stdout on a pipe.
inline child_process spawn_self(const std::vector<std::string>& args) {
  child_process child;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    child.error = std::string("pipe: ") + std::strerror(errno);
    return child;
  }
  std::vector<std::string> storage;
  storage.reserve(args.size() + 1);
  storage.emplace_back("settle_peers");
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : storage) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // dup2 clears close-on-exec on the new descriptor, so only stdout survives.
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  const int rc =
      ::posix_spawn(&child.pid, "/proc/self/exe", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    child.error = std::string("posix_spawn: ") + std::strerror(rc);
    child.pid = -1;
    ::close(fds[0]);
    return child;
  }
  child.output = fds[0];
  return child;
}

/// Reads the child's output until it closes stdout or `deadline` passes (then
/// the child is killed), reaps it, and parses "key value" lines.
inline child_result finish(child_process& child, std::chrono::steady_clock::time_point deadline) {
  child_result result;
  if (child.pid < 0) {
    result.status = child.error;
    return result;
  }
  std::string text;
  bool timed_out = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{child.output, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) {
      continue;
    }
    if (ready <= 0) {
      timed_out = ready == 0;
      break;
    }
    char buffer[4096];
    const auto got = ::read(child.output, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got <= 0) {
      break;  // EOF: the child closed stdout (it is exiting)
    }
    text.append(buffer, static_cast<std::size_t>(got));
  }
  if (timed_out) {
    ::kill(child.pid, SIGKILL);
  }
  int status = 0;
  while (::waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
  }
  ::close(child.output);
  child.output = -1;
  child.pid = -1;

  if (timed_out) {
    result.status = "timed out";
  } else if (WIFEXITED(status)) {
    result.status =
        WEXITSTATUS(status) == 0 ? "ok" : "exit status " + std::to_string(WEXITSTATUS(status));
  } else if (WIFSIGNALED(status)) {
    result.status = "killed by signal " + std::to_string(WTERMSIG(status));
  } else {
    result.status = "unknown wait status";
  }
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    const auto space = line.find(' ');
    if (space != std::string::npos) {
      result.values[line.substr(0, space)] = line.substr(space + 1);
    }
  }
  return result;
}

}  // namespace peers

#endif  // SETTLE_BENCHMARKS_PEERS_CHILD_PROCESS_HPP
