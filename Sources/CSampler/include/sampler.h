// CSampler: an in-process sampling profiler for Linux x86-64 and the ELF symbol tables to name what it saw.
//
// Sampling: per-thread timers (timer_create + SIGEV_THREAD_ID) send SIGPROF to every thread of the process;
// the handler unwinds the interrupted thread with libunwind (unw_init_local2(..., UNW_INIT_SIGNAL_FRAME) +
// unw_step, so the first PC is the interrupted instruction and no handler frame is recorded) into a
// preallocated, lock-free buffer, together with the thread id and the value of `ws_op_tag`. The handler
// allocates nothing, takes no lock and calls no Swift code. A helper thread (which never receives SIGPROF)
// re-reads /proc/self/task periodically and arms timers for threads created after the start.
//
// Symbolization: `ws_symbolizer_create` snapshots the loaded objects (dl_iterate_phdr, with load bias) and
// reads their .symtab / .dynsym with libelf on first use; `ws_symbolize` maps a PC to (name, offset, module).
//
// Usage (one sampling session at a time per process):
//   ws_sampler_config cfg = ws_sampler_default_config();
//   ws_sampler_start(&cfg, err, sizeof err);  ... workload ...  ws_sampler_stop();
//   for (size_t i = 0; i < ws_sampler_sample_count(); i++) ws_sampler_sample(i, &s);
//   ws_sampler_release();
#pragma once
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Clocks that drive the sampling timers.
enum {
    /// Each thread's CPU time (CLOCK_THREAD_CPUTIME_ID of that thread): fires at most at the kernel tick.
    WS_CLOCK_CPU = 0,
    /// Wall time (CLOCK_MONOTONIC), one timer per thread: sleeping threads are sampled too.
    WS_CLOCK_WALL = 1,
    /// Each thread's CPU time measured by a perf task-clock event (perf_event_open, hrtimer-based): no tick
    /// granularity, any rate; needs kernel.perf_event_paranoid <= 2 (user time only at 2 when unprivileged).
    WS_CLOCK_TASK = 2,
};

/// Deepest stack recorded; deeper stacks keep their innermost WS_MAX_DEPTH frames and count as truncated.
#define WS_MAX_DEPTH 256
/// Most threads that can hold a timer at once.
#define WS_MAX_THREADS 512

/// What to sample and how much room to preallocate.
typedef struct {
    int clock;              ///< WS_CLOCK_CPU, WS_CLOCK_WALL or WS_CLOCK_TASK
    double hz;              ///< requested samples per second per thread
    size_t max_samples;     ///< sample slots (a full buffer drops further samples, counted)
    size_t max_pcs;         ///< PC slots shared by all samples (a full arena drops samples, counted)
    int max_depth;          ///< frames per stack, 1...WS_MAX_DEPTH
    int rescan_ms;          ///< how often the helper thread looks for new threads
    int unwinder;           ///< WS_UNWIND_BACKTRACE (default) or WS_UNWIND_STEP
} ws_sampler_config;

/// How the handler unwinds.
enum {
    /// unw_backtrace (libunwind's per-thread cached frame-type trace, through the signal frame) cut at the
    /// interrupted PC; falls back to WS_UNWIND_STEP for a sample whose PC it cannot find.
    WS_UNWIND_BACKTRACE = 0,
    /// unw_init_local2(ucontext, UNW_INIT_SIGNAL_FRAME) + unw_step: DWARF for every frame, several times slower.
    WS_UNWIND_STEP = 1,
};

/// Counters of one session (valid after ws_sampler_stop).
typedef struct {
    uint64_t samples;         ///< stacks recorded
    uint64_t dropped_full;    ///< signals that found the sample buffer or the PC arena full
    uint64_t dropped_unwind;  ///< signals whose unwind could not start (or gave no frame)
    uint64_t truncated;       ///< stacks cut at max_depth
    uint64_t signals;         ///< SIGPROF deliveries while active
    uint64_t overruns;        ///< timer expirations merged by the kernel (timer_getoverrun at stop)
    int threads_sampled;      ///< threads that got a timer during the session
    int timer_failures;       ///< threads for which timer_create/timer_settime failed
    double wall_seconds;      ///< start ... stop
    double cpu_seconds;       ///< process CPU time (user + system) between start and stop
    double thread_seconds;    ///< sum over sampled threads of the clock's time while armed (CPU or wall)
    double handler_seconds;   ///< time spent inside the SIGPROF handler (unwinding, recording), all threads
    uint64_t step_unwinds;    ///< samples unwound with unw_step (WS_UNWIND_STEP, or the backtrace path's fallback)
    int user_only;            ///< WS_CLOCK_TASK had to exclude kernel time (perf_event_paranoid)
} ws_sampler_stats;

/// One recorded stack: pcs[0] is the interrupted instruction, pcs[1...] return addresses (callers).
typedef struct {
    const uint64_t *pcs;
    int depth;
    int32_t tid;
    int32_t tag;              ///< ws_op_tag when the signal arrived
    int truncated;
} ws_sample;

/// The op tag: whatever the workload writes here is recorded with every sample (0 = none).
extern volatile int32_t ws_op_tag;
/// The address of `ws_op_tag`, for languages that cannot take it themselves.
int32_t *ws_op_tag_pointer(void);

/// A reasonable configuration: CPU clock at 250 Hz, 65536 samples, 64 frames per sample on average.
ws_sampler_config ws_sampler_default_config(void);

/// Installs the SIGPROF handler (once), allocates and touches the buffers, arms a timer on every thread of
/// the process (except the caller's helper) and starts the rescanning helper thread.
/// Returns 0, or -1 with a one-line reason in `err`.
int ws_sampler_start(const ws_sampler_config *cfg, char *err, size_t errlen);
/// Disarms every timer, stops the helper thread and waits for handlers in flight. Returns 0, or -1 if not running.
int ws_sampler_stop(void);
/// Whether a session is running.
int ws_sampler_running(void);
/// Counters of the last session.
void ws_sampler_get_stats(ws_sampler_stats *out);
/// Samples slots claimed in the last session (some may be invalid: see ws_sampler_sample).
size_t ws_sampler_sample_count(void);
/// Reads slot `i`; returns 1 if it holds a complete stack, else 0. Only after ws_sampler_stop.
int ws_sampler_sample(size_t i, ws_sample *out);
/// Frees the buffers of the last session (samples become unreadable).
void ws_sampler_release(void);

/// Thread id of the caller (gettid).
int32_t ws_gettid(void);
/// Nanoseconds of CPU time consumed so far by the calling thread.
uint64_t ws_thread_cpu_ns(void);

// ---- symbols -------------------------------------------------------------------------------------------

typedef struct ws_symbolizer ws_symbolizer;

/// Snapshots the objects loaded in this process (main executable, shared objects, vDSO).
ws_symbolizer *ws_symbolizer_create(void);
void ws_symbolizer_destroy(ws_symbolizer *s);

/// Names `pc`: returns 1 with *name (the raw, possibly mangled symbol) and *offset from its start,
/// 0 if `pc` lies in a known object without a covering symbol, -1 if in no known object.
/// *module is the object's path (or "[vdso]") whenever the object is known. Pointers stay valid until
/// ws_symbolizer_destroy.
int ws_symbolize(ws_symbolizer *s, uint64_t pc, const char **name, uint64_t *offset, const char **module);

/// Number of objects in the snapshot, and object i's path, load bias, and address range.
size_t ws_symbolizer_module_count(ws_symbolizer *s);
int ws_symbolizer_module(ws_symbolizer *s, size_t i, const char **path, uint64_t *bias, uint64_t *lo, uint64_t *hi);

/// Function symbols of the ELF file at `path` (for tests and tools): count, or -1 with `err` set.
/// Calls `visit(ctx, name, value, size)` for each (values are link-time addresses, not biased).
long ws_elf_function_symbols(const char *path, void *ctx,
                             void (*visit)(void *ctx, const char *name, uint64_t value, uint64_t size),
                             char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#ifdef __cplusplus
extern "C" {
#endif
/// Writes one byte per page of the `bytes` of stack below the caller's frame, so those pages are present.
/// perf copies each sample's user stack from interrupt context, where it cannot fault pages in: a copy stops
/// at the first page never touched, and DWARF unwinding then loses every caller above it. Threads with
/// shallow stacks and big frames (SIMD kernels reserving kilobytes they never write) hit this; calling this
/// once on each thread before recording avoids it.
void ws_touch_stack(size_t bytes);
#ifdef __cplusplus
}
#endif

// ---- child processes and signals (process.c) -------------------------------------------------------------
#include <sys/types.h>
#ifdef __cplusplus
extern "C" {
#endif
/// Catches `sigs` (those not ignored now, except SIGCHLD which is always caught) with an async-signal-safe
/// handler that records the signal in a mask and writes a byte to a self-pipe. Returns the pipe's read end
/// (poll it), or -1. Idempotent per signal.
int ws_signals_watch(const int *sigs, int n);
/// Restores the dispositions ws_signals_watch replaced.
void ws_signals_unwatch(void);
/// The signals received since the last call (bit n = signal n), cleared; drains the pipe.
uint64_t ws_signals_take(void);
/// The same without clearing.
uint64_t ws_signals_peek(void);
/// Dies of `sig` (default disposition, unblocked, raised); exits 128 + sig if that returns.
void ws_signals_die(int sig);
/// fork + execve(path, argv, envp) with fds 0/1/2 from in/out/err (-1: inherited), an empty signal mask and
/// PR_SET_PDEATHSIG `parent_death_signal` (0: none). Returns the pid, or -1 with *exec_errno (exec failure
/// included: the child's errno comes back through a close-on-exec pipe).
pid_t ws_spawn(const char *path, char *const argv[], char *const envp[], int in_fd, int out_fd, int err_fd,
               int parent_death_signal, int *exec_errno);
/// waitpid (EINTR retried): 1 with *status when `pid` ended, 0 if still running (nohang), -1 on error.
int ws_wait(pid_t pid, int nohang, int *status);
/// Makes this process the reaper of its orphaned descendants (PR_SET_CHILD_SUBREAPER): a grandchild whose parent
/// dies becomes this process's child, so it can still be found and ended. 0 or -1.
int ws_set_child_subreaper(void);
/// Decoding a wait status: exited normally? and the exit code or the terminating signal.
int ws_wait_exited(int status);
int ws_wait_code(int status);
#ifdef __cplusplus
}
#endif
