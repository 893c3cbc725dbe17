// Runs a child process for the end-to-end tests: argv, extra environment, stdout and stderr captured to
// files, a sanity bound after which the child is killed (not a timing assertion: it only stops a hung run).
#pragma once

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <poll.h>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

extern char **environ;

namespace host_test {

inline std::string slurp(const std::filesystem::path &p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline void spit(const std::filesystem::path &p, const std::string &text) {
    std::ofstream out(p, std::ios::binary);
    out << text;
}

struct Result {
    int code = -1;        // exit code, or 128+signal
    std::string out, err;
    double seconds = 0;
};

// This process's environment less the names in `unset` and in `env`, then `env` added: a child's environment.
inline std::vector<std::string> child_environment(const std::map<std::string, std::string> &env,
                                                  const std::vector<std::string> &unset) {
    std::vector<std::string> envs;
    for (char **e = environ; *e; ++e) {
        std::string kv = *e, name = kv.substr(0, kv.find('='));
        bool drop = env.count(name) > 0;
        for (const auto &u : unset) drop = drop || u == name;
        if (!drop) envs.push_back(kv);
    }
    for (const auto &[k, v] : env) envs.push_back(k + "=" + v);
    return envs;
}

class Child {
public:
    // env: NAME=value entries added; unset: names removed from the inherited environment.
    Child(std::vector<std::string> argv, const std::filesystem::path &capture_dir, std::map<std::string, std::string> env = {},
          std::vector<std::string> unset = {}, const std::string &stdin_text = {}) {
        static int counter = 0;
        ++counter;
        out_path_ = capture_dir / ("out-" + std::to_string(::getpid()) + "-" + std::to_string(counter));
        err_path_ = capture_dir / ("err-" + std::to_string(::getpid()) + "-" + std::to_string(counter));
        std::vector<std::string> envs = child_environment(env, unset);
        std::vector<char *> cargv, cenv;
        for (auto &a : argv) cargv.push_back(a.data());
        cargv.push_back(nullptr);
        for (auto &e : envs) cenv.push_back(e.data());
        cenv.push_back(nullptr);
        std::string in_path;
        if (!stdin_text.empty()) {
            in_path = (capture_dir / ("in-" + std::to_string(counter))).string();
            spit(in_path, stdin_text);
        }
        start_ = std::chrono::steady_clock::now();
        pid_ = ::fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            int o = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            int e = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            int i = ::open(in_path.empty() ? "/dev/null" : in_path.c_str(), O_RDONLY);
            ::dup2(o, 1);
            ::dup2(e, 2);
            ::dup2(i, 0);
            ::execve(cargv[0], cargv.data(), cenv.data());
            ::_exit(127);
        }
    }
    ~Child() {
        if (pid_ > 0 && !reaped_) {
            ::kill(pid_, SIGKILL);
            int st;
            ::waitpid(pid_, &st, 0);
        }
    }
    pid_t pid() const { return pid_; }
    void signal(int sig) { ::kill(pid_, sig); }
    Result wait(std::chrono::seconds bound = std::chrono::seconds(60)) {
        Result r;
        int status = 0;
        auto deadline = std::chrono::steady_clock::now() + bound;
        while (true) {
            pid_t w = ::waitpid(pid_, &status, WNOHANG);
            if (w == pid_) break;
            if (std::chrono::steady_clock::now() > deadline) {
                ::kill(pid_, SIGKILL);
                ::waitpid(pid_, &status, 0);
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        reaped_ = true;
        r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
        r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        r.out = slurp(out_path_);
        r.err = slurp(err_path_);
        return r;
    }
    std::string current_stderr() const { return slurp(err_path_); }
    std::string current_stdout() const { return slurp(out_path_); }

private:
    pid_t pid_ = -1;
    bool reaped_ = false;
    std::filesystem::path out_path_, err_path_;
    std::chrono::steady_clock::time_point start_;
};

inline Result run(std::vector<std::string> argv, const std::filesystem::path &dir, std::map<std::string, std::string> env = {},
                  std::vector<std::string> unset = {}) {
    Child c(std::move(argv), dir, std::move(env), std::move(unset));
    return c.wait();
}

// Runs argv with stdout on out_fd (a pipe, /dev/full, ...); stderr is captured. out is left empty.
inline Result run_with_stdout(std::vector<std::string> argv, const std::filesystem::path &dir, int out_fd,
                              std::map<std::string, std::string> env = {}, std::vector<std::string> unset = {},
                              std::chrono::seconds bound = std::chrono::seconds(60)) {
    std::filesystem::path err_path = dir / ("err-fd-" + std::to_string(::getpid()));
    std::vector<std::string> envs = child_environment(env, unset);
    std::vector<char *> cargv, cenv;
    for (auto &a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    for (auto &e : envs) cenv.push_back(e.data());
    cenv.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        int e = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int i = ::open("/dev/null", O_RDONLY);
        ::dup2(out_fd, 1);
        ::dup2(e, 2);
        ::dup2(i, 0);
        ::execve(cargv[0], cargv.data(), cenv.data());
        ::_exit(127);
    }
    Result r;
    int status = 0;
    auto deadline = std::chrono::steady_clock::now() + bound;
    while (::waitpid(pid, &status, WNOHANG) != pid) {
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.err = slurp(err_path);
    return r;
}

// A fresh temporary directory, removed at scope exit.
class TempDir {
public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "connector-host-test-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path &path() const { return path_; }
    std::filesystem::path operator/(const std::string &name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

}  // namespace host_test
