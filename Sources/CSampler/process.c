// Child processes for the profiler: spawning perf with a parent-death signal, and watching the signals that
// stop a recording (SIGINT, SIGTERM, SIGHUP) and end a child (SIGCHLD). See include/sampler.h.
//
// The handler only ORs the signal into a mask and writes one byte to a non-blocking self-pipe (both
// async-signal-safe); the controlling thread polls the pipe and reads the mask. Between fork and exec the
// child calls only async-signal-safe functions (dup2, sigprocmask, sigaction, prctl, execve, write, _exit).
#define _GNU_SOURCE
#include "sampler.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static _Atomic uint64_t g_sig_mask = 0;
static int g_sig_pipe[2] = {-1, -1};
static struct sigaction g_sig_saved[65];
static uint64_t g_sig_installed = 0;

static void on_watched_signal(int sig) {
    int saved = errno;
    atomic_fetch_or(&g_sig_mask, (uint64_t)1 << sig);
    if (g_sig_pipe[1] >= 0) { char b = (char)sig; ssize_t r = write(g_sig_pipe[1], &b, 1); (void)r; }
    errno = saved;
}

int ws_signals_watch(const int *sigs, int n) {
    if (g_sig_pipe[0] < 0) {
        if (pipe2(g_sig_pipe, O_NONBLOCK | O_CLOEXEC) != 0) return -1;
    }
    for (int i = 0; i < n; i++) {
        int s = sigs[i];
        if (s <= 0 || s >= 64 || (g_sig_installed & ((uint64_t)1 << s))) continue;
        struct sigaction old;
        if (sigaction(s, NULL, &old) != 0) continue;
        // A signal the caller's shell ignores (a background job's SIGINT, nohup's SIGHUP) stays ignored.
        if (s != SIGCHLD && old.sa_handler == SIG_IGN) continue;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_watched_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART | (s == SIGCHLD ? SA_NOCLDSTOP : 0);
        if (sigaction(s, &sa, &g_sig_saved[s]) != 0) continue;
        g_sig_installed |= (uint64_t)1 << s;
    }
    return g_sig_pipe[0];
}

void ws_signals_unwatch(void) {
    for (int s = 1; s < 64; s++) {
        if (!(g_sig_installed & ((uint64_t)1 << s))) continue;
        sigaction(s, &g_sig_saved[s], NULL);
    }
    g_sig_installed = 0;
}

uint64_t ws_signals_take(void) {
    char buf[64];
    if (g_sig_pipe[0] >= 0) while (read(g_sig_pipe[0], buf, sizeof buf) > 0) {}
    return atomic_exchange(&g_sig_mask, 0);
}

uint64_t ws_signals_peek(void) { return atomic_load(&g_sig_mask); }

void ws_signals_die(int sig) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigaction(sig, &sa, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    _exit(128 + sig);
}

pid_t ws_spawn(const char *path, char *const argv[], char *const envp[], int in_fd, int out_fd, int err_fd,
               int parent_death_signal, int *exec_errno) {
    int ep[2];
    if (pipe2(ep, O_CLOEXEC) != 0) { *exec_errno = errno; return -1; }
    pid_t pid = fork();
    if (pid < 0) { *exec_errno = errno; close(ep[0]); close(ep[1]); return -1; }
    if (pid == 0) {
        // The child: standard streams, default dispositions of the signals the parent watches (exec resets
        // caught ones anyway; ignored ones stay ignored, as a shell leaves them), an empty mask, the parent's
        // death as a signal, then exec. On failure the errno goes back through the close-on-exec pipe.
        if (in_fd >= 0 && in_fd != 0) dup2(in_fd, 0);
        if (out_fd >= 0 && out_fd != 1) dup2(out_fd, 1);
        if (err_fd >= 0 && err_fd != 2) dup2(err_fd, 2);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (parent_death_signal > 0) prctl(PR_SET_PDEATHSIG, parent_death_signal);
        execve(path, argv, envp);
        int e = errno;
        ssize_t w = write(ep[1], &e, sizeof e); (void)w;
        _exit(127);
    }
    close(ep[1]);
    int e = 0;
    ssize_t r;
    do { r = read(ep[0], &e, sizeof e); } while (r < 0 && errno == EINTR);
    close(ep[0]);
    if (r == (ssize_t)sizeof e) {
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
        *exec_errno = e;
        return -1;
    }
    *exec_errno = 0;
    return pid;
}

int ws_wait(pid_t pid, int nohang, int *status) {
    for (;;) {
        pid_t r = waitpid(pid, status, nohang ? WNOHANG : 0);
        if (r < 0 && errno == EINTR) continue;
        return r < 0 ? -1 : (r == 0 ? 0 : 1);
    }
}

int ws_wait_exited(int status) { return WIFEXITED(status) ? 1 : 0; }
int ws_wait_code(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : (WIFSIGNALED(status) ? WTERMSIG(status) : -1); }

int ws_set_child_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }
