// The SIGPROF sampler: per-thread timers, an async-signal-safe libunwind handler, a lock-free sample buffer.
// See include/sampler.h for the contract.
//
// Buffer layout (allocated and touched by ws_sampler_start, never by the handler):
//   slots[max_samples]   one header per claimed sample: state, tid, tag, depth, offset into `pcs`
//   pcs[max_pcs]         every sample's PCs back to back (innermost first)
// The handler unwinds into a local array, then claims a slot and `depth` PC words with two atomic
// fetch-adds, copies, and publishes the slot with a release store. Nothing else is shared.
#define _GNU_SOURCE
#define UNW_LOCAL_ONLY
#include "sampler.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <libunwind.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

volatile int32_t ws_op_tag = 0;
int32_t *ws_op_tag_pointer(void) { return (int32_t *)&ws_op_tag; }

enum { SLOT_EMPTY = 0, SLOT_READY = 1, SLOT_FAILED = 2 };

typedef struct {
    _Atomic uint32_t state;
    int32_t tid;
    int32_t tag;
    uint16_t depth;
    uint16_t truncated;
    uint64_t offset;
} slot_t;

typedef struct {
    int32_t tid;
    timer_t timer;
    clockid_t clock;      // the clock the timer counts (thread CPU clock or CLOCK_MONOTONIC)
    uint64_t armed_at;    // that clock's reading when armed
    int perf_fd;          // WS_CLOCK_TASK: the thread's task-clock perf event (else -1)
    int alive;
} thread_timer_t;

// ---- state shared with the handler (atomics and plain data written before `active` is set) ----------
static atomic_int g_active = 0;
static atomic_int g_inflight = 0;
static slot_t *g_slots = NULL;
static uint64_t *g_pcs = NULL;
static size_t g_max_samples = 0, g_max_pcs = 0;
static int g_max_depth = 64;
static _Atomic uint64_t g_next_slot = 0, g_next_pc = 0;
static _Atomic uint64_t g_samples = 0, g_dropped_full = 0, g_dropped_unwind = 0, g_truncated = 0;
static _Atomic uint64_t g_signals = 0, g_overruns = 0, g_handler_ns = 0, g_step_unwinds = 0;
static int g_unwinder = WS_UNWIND_BACKTRACE;

// ---- state owned by the controlling thread / helper thread (never touched by the handler) -----------
static ws_sampler_config g_cfg;
static thread_timer_t g_threads[WS_MAX_THREADS];
static int g_nthreads = 0;
static int g_threads_sampled = 0, g_timer_failures = 0;
static double g_thread_seconds = 0;
static pthread_t g_helper;
static atomic_int g_helper_stop = 0;
static _Atomic int32_t g_helper_tid = 0;
static int g_running = 0;
static int g_handler_installed = 0;
static uint64_t g_wall_start, g_cpu_start;
static double g_wall_seconds, g_cpu_seconds;
static uint64_t g_rng = 0x9E3779B97F4A7C15ull;

int32_t ws_gettid(void) { return (int32_t)syscall(SYS_gettid); }

static uint64_t clock_ns(clockid_t c) {
    struct timespec ts;
    if (clock_gettime(c, &ts) != 0) return 0;
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t ws_thread_cpu_ns(void) { return clock_ns(CLOCK_THREAD_CPUTIME_ID); }

/// The CPU-time clock of thread `tid` (what pthread_getcpuclockid computes: MAKE_THREAD_CPUCLOCK(tid, SCHED)).
static clockid_t thread_cpu_clock(int32_t tid) { return (clockid_t)((~(unsigned)tid) << 3) | 6; }

static void on_sigprof(int sig, siginfo_t *si, void *ucv) {
    (void)sig;
    int saved_errno = errno;
    atomic_fetch_add(&g_inflight, 1);
    if (!atomic_load(&g_active)) goto out;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);  // async-signal-safe (vDSO)
    atomic_fetch_add_explicit(&g_signals, 1, memory_order_relaxed);
    if (si && si->si_code == SI_TIMER && si->si_overrun > 0)
        atomic_fetch_add_explicit(&g_overruns, (uint64_t)si->si_overrun, memory_order_relaxed);

    // Unwind first (into this stack), then claim exactly the room needed.
    uint64_t local[WS_MAX_DEPTH];
    int depth = 0, truncated = 0, found = 0;
    if (g_unwinder == WS_UNWIND_BACKTRACE) {
        // The fast trace starts in this handler: its own frames and the signal trampoline come first, then
        // the interrupted PC (exactly, from the signal frame), then the callers. Cut at the PC.
        enum { SKIP = 16 };
        void *buf[WS_MAX_DEPTH + SKIP];
        uint64_t pc = (uint64_t)((ucontext_t *)ucv)->uc_mcontext.gregs[REG_RIP];
        int n = unw_backtrace(buf, g_max_depth + SKIP);
        for (int i = 0; i < n && i < SKIP; i++) {
            if ((uint64_t)(uintptr_t)buf[i] != pc) continue;
            found = 1;
            for (int j = i; j < n && depth < g_max_depth; j++) local[depth++] = (uint64_t)(uintptr_t)buf[j];
            truncated = n == g_max_depth + SKIP || n - i > g_max_depth;
            break;
        }
    }
    if (!found) {
        atomic_fetch_add_explicit(&g_step_unwinds, 1, memory_order_relaxed);
        unw_cursor_t cursor;
        if (unw_init_local2(&cursor, (unw_context_t *)ucv, UNW_INIT_SIGNAL_FRAME) < 0) {
            atomic_fetch_add_explicit(&g_dropped_unwind, 1, memory_order_relaxed);
            goto done;
        }
        for (;;) {
            unw_word_t ip = 0;
            if (unw_get_reg(&cursor, UNW_REG_IP, &ip) < 0 || ip == 0) break;
            if (depth == g_max_depth) { truncated = 1; break; }
            local[depth++] = (uint64_t)ip;
            if (unw_step(&cursor) <= 0) break;
        }
    }
    if (depth == 0) {
        atomic_fetch_add_explicit(&g_dropped_unwind, 1, memory_order_relaxed);
        goto done;
    }
    uint64_t idx = atomic_fetch_add_explicit(&g_next_slot, 1, memory_order_relaxed);
    if (idx >= g_max_samples) {
        atomic_fetch_add_explicit(&g_dropped_full, 1, memory_order_relaxed);
        goto done;
    }
    slot_t *slot = &g_slots[idx];
    uint64_t off = atomic_fetch_add_explicit(&g_next_pc, (uint64_t)depth, memory_order_relaxed);
    if (off + (uint64_t)depth > g_max_pcs) {
        atomic_fetch_add_explicit(&g_dropped_full, 1, memory_order_relaxed);
        atomic_store_explicit(&slot->state, SLOT_FAILED, memory_order_release);
        goto done;
    }
    for (int i = 0; i < depth; i++) g_pcs[off + i] = local[i];
    slot->tid = (int32_t)syscall(SYS_gettid);
    slot->tag = ws_op_tag;
    slot->depth = (uint16_t)depth;
    slot->truncated = (uint16_t)truncated;
    slot->offset = off;
    if (truncated) atomic_fetch_add_explicit(&g_truncated, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&g_samples, 1, memory_order_relaxed);
    atomic_store_explicit(&slot->state, SLOT_READY, memory_order_release);
done:
    {
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        int64_t ns = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000000 + (t1.tv_nsec - t0.tv_nsec);
        if (ns > 0) atomic_fetch_add_explicit(&g_handler_ns, (uint64_t)ns, memory_order_relaxed);
    }
out:
    atomic_fetch_sub(&g_inflight, 1);
    errno = saved_errno;
}

ws_sampler_config ws_sampler_default_config(void) {
    ws_sampler_config c;
    c.clock = WS_CLOCK_CPU;
    c.hz = 250;
    c.max_samples = 65536;
    c.max_pcs = 65536 * 64;
    c.max_depth = 128;
    c.rescan_ms = 50;
    c.unwinder = WS_UNWIND_BACKTRACE;
    return c;
}

static uint64_t next_random(void) {
    g_rng ^= g_rng << 13; g_rng ^= g_rng >> 7; g_rng ^= g_rng << 17;
    return g_rng;
}

static int g_task_errno = 0;          // why the last task-clock event could not be opened
static int g_task_exclude_kernel = 0; // kernel.perf_event_paranoid forced exclude_kernel

static int thread_exists(int32_t tid) {
    char p[64];
    snprintf(p, sizeof p, "/proc/self/task/%d", (int)tid);
    return access(p, F_OK) == 0;
}

/// WS_CLOCK_TASK: a software task-clock perf event on `tid` whose every overflow (one per interval of the
/// thread's CPU time, measured by an hrtimer, not at the tick) sends SIGPROF to that thread (F_SETSIG +
/// F_SETOWN_EX). Returns 1, 0 if the thread is gone, -1 on failure (errno kept in g_task_errno).
static int arm_task_clock(thread_timer_t *t, uint64_t interval) {
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.type = PERF_TYPE_SOFTWARE;
    a.size = sizeof a;
    a.config = PERF_COUNT_SW_TASK_CLOCK;
    a.sample_period = interval;
    a.disabled = 1;
    a.exclude_hv = 1;
    a.exclude_kernel = (unsigned)g_task_exclude_kernel;
    a.wakeup_events = 1;
    int fd = (int)syscall(SYS_perf_event_open, &a, t->tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0 && (errno == EACCES || errno == EPERM) && !g_task_exclude_kernel) {
        // Unprivileged with kernel.perf_event_paranoid = 2: user-mode only (time in syscalls is not sampled).
        g_task_exclude_kernel = 1;
        a.exclude_kernel = 1;
        fd = (int)syscall(SYS_perf_event_open, &a, t->tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
    }
    if (fd < 0) {
        g_task_errno = errno;
        return thread_exists(t->tid) ? -1 : 0;
    }
    struct f_owner_ex owner = { F_OWNER_TID, t->tid };
    if (fcntl(fd, F_SETFL, O_ASYNC) != 0 || fcntl(fd, F_SETSIG, SIGPROF) != 0 || fcntl(fd, F_SETOWN_EX, &owner) != 0 ||
        ioctl(fd, PERF_EVENT_IOC_ENABLE, 0) != 0) {
        g_task_errno = errno;
        close(fd);
        return thread_exists(t->tid) ? -1 : 0;
    }
    t->perf_fd = fd;
    return 1;
}

/// The task-clock event's count: the thread's CPU time since it was enabled (ns).
static uint64_t task_clock_ns(int fd) {
    uint64_t v = 0;
    return read(fd, &v, sizeof v) == (ssize_t)sizeof v ? v : 0;
}

/// Arms a timer sending SIGPROF to `tid`. Returns 1 on success, 0 if the thread is gone, -1 on failure.
static int arm_thread(int32_t tid) {
    if (g_nthreads >= WS_MAX_THREADS) return -1;
    thread_timer_t *t = &g_threads[g_nthreads];
    memset(t, 0, sizeof *t);
    t->tid = tid;
    t->perf_fd = -1;
    if (g_cfg.clock == WS_CLOCK_TASK) {
        uint64_t interval = (uint64_t)(1e9 / g_cfg.hz);
        int rc = arm_task_clock(t, interval < 10000 ? 10000 : interval);
        if (rc != 1) return rc;
        t->alive = 1;
        g_nthreads++;
        g_threads_sampled++;
        return 1;
    }
    t->clock = g_cfg.clock == WS_CLOCK_WALL ? CLOCK_MONOTONIC : thread_cpu_clock(tid);
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = SIGPROF;
    sev._sigev_un._tid = tid;
    if (timer_create(t->clock, &sev, &t->timer) != 0) return thread_exists(tid) ? -1 : 0;
    uint64_t interval = (uint64_t)(1e9 / g_cfg.hz);
    if (interval < 1000) interval = 1000;
    // First expiry at a random phase, so threads (and the kernel tick) are not sampled in lockstep.
    uint64_t first = 1 + next_random() % interval;
    struct itimerspec its;
    its.it_interval.tv_sec = (time_t)(interval / 1000000000ull);
    its.it_interval.tv_nsec = (long)(interval % 1000000000ull);
    its.it_value.tv_sec = (time_t)(first / 1000000000ull);
    its.it_value.tv_nsec = (long)(first % 1000000000ull);
    t->armed_at = clock_ns(t->clock);
    if (timer_settime(t->timer, 0, &its, NULL) != 0) {
        timer_delete(t->timer);
        return -1;
    }
    t->alive = 1;
    g_nthreads++;
    g_threads_sampled++;
    return 1;
}

static void disarm(thread_timer_t *t, int thread_alive) {
    if (!t->alive) return;
    if (t->perf_fd >= 0) {
        ioctl(t->perf_fd, PERF_EVENT_IOC_DISABLE, 0);
        g_thread_seconds += (double)task_clock_ns(t->perf_fd) / 1e9;  // readable even after the thread exited
        close(t->perf_fd);
        t->perf_fd = -1;
        t->alive = 0;
        return;
    }
    if (thread_alive) {
        uint64_t now = clock_ns(t->clock);
        if (now >= t->armed_at) g_thread_seconds += (double)(now - t->armed_at) / 1e9;
    }
    timer_delete(t->timer);
    t->alive = 0;
}

/// Arms timers on threads not seen before; forgets threads that are gone. `skip` is never sampled.
static void scan_threads(int32_t skip) {
    DIR *d = opendir("/proc/self/task");
    if (!d) return;
    int32_t present[WS_MAX_THREADS];
    int npresent = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        int32_t tid = (int32_t)atoi(e->d_name);
        if (tid <= 0 || tid == skip) continue;
        if (npresent < WS_MAX_THREADS) present[npresent++] = tid;
        int known = 0;
        for (int i = 0; i < g_nthreads; i++)
            if (g_threads[i].tid == tid && g_threads[i].alive) { known = 1; break; }
        if (known) continue;
        if (arm_thread(tid) < 0) g_timer_failures++;
    }
    closedir(d);
    for (int i = 0; i < g_nthreads; i++) {
        if (!g_threads[i].alive) continue;
        int found = 0;
        for (int j = 0; j < npresent; j++) if (present[j] == g_threads[i].tid) { found = 1; break; }
        // A thread that exited: its CPU clock is gone (its time until exit is not counted).
        if (!found) disarm(&g_threads[i], 0);
    }
    // Compact the table when it fills up with dead entries.
    if (g_nthreads > WS_MAX_THREADS / 2) {
        int k = 0;
        for (int i = 0; i < g_nthreads; i++) if (g_threads[i].alive) g_threads[k++] = g_threads[i];
        g_nthreads = k;
    }
}

static void *helper_main(void *arg) {
    (void)arg;
    atomic_store(&g_helper_tid, ws_gettid());
    while (!atomic_load(&g_helper_stop)) {
        struct timespec ts = { g_cfg.rescan_ms / 1000, (long)(g_cfg.rescan_ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
        if (atomic_load(&g_helper_stop)) break;
        scan_threads(atomic_load(&g_helper_tid));
    }
    return NULL;
}

static int fail(char *err, size_t errlen, const char *msg) {
    if (err && errlen) snprintf(err, errlen, "%s", msg);
    return -1;
}

static void *alloc_touched(size_t bytes) {
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    memset(p, 0, bytes);  // fault every page in now, not in the handler
    return p;
}

int ws_sampler_start(const ws_sampler_config *cfg, char *err, size_t errlen) {
    if (g_running) return fail(err, errlen, "the sampler is already running");
    if (!cfg) return fail(err, errlen, "no configuration");
    if (cfg->clock != WS_CLOCK_CPU && cfg->clock != WS_CLOCK_WALL && cfg->clock != WS_CLOCK_TASK) return fail(err, errlen, "unknown clock");
    if (!(cfg->hz >= 1 && cfg->hz <= 100000)) return fail(err, errlen, "sampling rate must be in 1...100000 Hz");
    if (cfg->max_depth < 1 || cfg->max_depth > WS_MAX_DEPTH) return fail(err, errlen, "max depth must be in 1...256");
    if (cfg->max_samples < 1 || cfg->max_pcs < 1) return fail(err, errlen, "buffer sizes must be positive");
    if (cfg->unwinder != WS_UNWIND_BACKTRACE && cfg->unwinder != WS_UNWIND_STEP) return fail(err, errlen, "unknown unwinder");
    ws_sampler_release();
    g_cfg = *cfg;
    if (g_cfg.rescan_ms < 1) g_cfg.rescan_ms = 50;
    g_max_samples = cfg->max_samples;
    g_max_pcs = cfg->max_pcs;
    g_slots = alloc_touched(g_max_samples * sizeof(slot_t));
    g_pcs = alloc_touched(g_max_pcs * sizeof(uint64_t));
    if (!g_slots || !g_pcs) { ws_sampler_release(); return fail(err, errlen, "cannot allocate the sample buffer"); }
    g_max_depth = cfg->max_depth;
    g_unwinder = cfg->unwinder;
    atomic_store(&g_next_slot, 0); atomic_store(&g_next_pc, 0);
    atomic_store(&g_samples, 0); atomic_store(&g_dropped_full, 0); atomic_store(&g_dropped_unwind, 0);
    atomic_store(&g_truncated, 0); atomic_store(&g_signals, 0); atomic_store(&g_overruns, 0);
    atomic_store(&g_handler_ns, 0); atomic_store(&g_step_unwinds, 0);
    g_nthreads = 0; g_threads_sampled = 0; g_timer_failures = 0; g_thread_seconds = 0;
    g_task_errno = 0; g_task_exclude_kernel = 0;

    // Per-thread caches: no global lock shared between handlers on different threads.
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
    // One unwind of each kind outside any handler, so libunwind's lazy initialisation (address space, the
    // trace cache's pthread key) does not happen in one. (Each other thread's trace cache is still created
    // by its first sample: an mmap, which is async-signal-safe.)
    {
        unw_context_t ctx; unw_cursor_t c;
        if (unw_getcontext(&ctx) == 0 && unw_init_local(&c, &ctx) == 0) { int n = 0; while (n++ < 8 && unw_step(&c) > 0) {} }
        void *buf[8];
        (void)unw_backtrace(buf, 8);
    }
    if (!g_handler_installed) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_sigprof;
        sa.sa_flags = SA_SIGINFO | SA_RESTART;
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGPROF, &sa, NULL) != 0) { ws_sampler_release(); return fail(err, errlen, "cannot install the SIGPROF handler"); }
        // The handler stays installed for the life of the process: a late signal after stop is harmless.
        g_handler_installed = 1;
    }
    g_wall_start = clock_ns(CLOCK_MONOTONIC);
    g_cpu_start = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    atomic_store(&g_active, 1);
    scan_threads(0);
    if (g_threads_sampled == 0) {
        atomic_store(&g_active, 0);
        ws_sampler_release();
        if (g_cfg.clock == WS_CLOCK_TASK) {
            char msg[256];
            snprintf(msg, sizeof msg, "cannot open a task-clock perf event (perf_event_open: %s); the cpu clock needs no permission",
                     strerror(g_task_errno));
            return fail(err, errlen, msg);
        }
        return fail(err, errlen, "cannot arm a timer on any thread (timer_create failed)");
    }
    // The helper never receives SIGPROF: it starts with the signal blocked.
    sigset_t block, old;
    sigemptyset(&block); sigaddset(&block, SIGPROF);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    atomic_store(&g_helper_stop, 0);
    atomic_store(&g_helper_tid, 0);
    int rc = pthread_create(&g_helper, NULL, helper_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        atomic_store(&g_active, 0);
        for (int i = 0; i < g_nthreads; i++) disarm(&g_threads[i], 1);
        ws_sampler_release();
        return fail(err, errlen, "cannot start the sampler's helper thread");
    }
    g_running = 1;
    return 0;
}

int ws_sampler_stop(void) {
    if (!g_running) return -1;
    atomic_store(&g_helper_stop, 1);
    pthread_join(g_helper, NULL);
    for (int i = 0; i < g_nthreads; i++) disarm(&g_threads[i], 1);
    atomic_store(&g_active, 0);
    g_wall_seconds = (double)(clock_ns(CLOCK_MONOTONIC) - g_wall_start) / 1e9;
    g_cpu_seconds = (double)(clock_ns(CLOCK_PROCESS_CPUTIME_ID) - g_cpu_start) / 1e9;
    // Handlers that saw `active` before it was cleared finish before the buffer is read.
    for (int spins = 0; atomic_load(&g_inflight) > 0 && spins < 100000; spins++) {
        struct timespec ts = { 0, 10000 };
        nanosleep(&ts, NULL);
    }
    g_running = 0;
    return 0;
}

int ws_sampler_running(void) { return g_running; }

void ws_sampler_get_stats(ws_sampler_stats *out) {
    if (!out) return;
    memset(out, 0, sizeof *out);
    out->samples = atomic_load(&g_samples);
    out->dropped_full = atomic_load(&g_dropped_full);
    out->dropped_unwind = atomic_load(&g_dropped_unwind);
    out->truncated = atomic_load(&g_truncated);
    out->signals = atomic_load(&g_signals);
    out->overruns = atomic_load(&g_overruns);
    out->threads_sampled = g_threads_sampled;
    out->timer_failures = g_timer_failures;
    out->wall_seconds = g_wall_seconds;
    out->cpu_seconds = g_cpu_seconds;
    out->thread_seconds = g_thread_seconds;
    out->handler_seconds = (double)atomic_load(&g_handler_ns) / 1e9;
    out->step_unwinds = atomic_load(&g_step_unwinds);
    out->user_only = g_task_exclude_kernel;
}

size_t ws_sampler_sample_count(void) {
    uint64_t n = atomic_load(&g_next_slot);
    return (size_t)(n < g_max_samples ? n : g_max_samples);
}

int ws_sampler_sample(size_t i, ws_sample *out) {
    if (g_running || !g_slots || i >= ws_sampler_sample_count() || !out) return 0;
    slot_t *s = &g_slots[i];
    if (atomic_load_explicit(&s->state, memory_order_acquire) != SLOT_READY) return 0;
    out->pcs = g_pcs + s->offset;
    out->depth = s->depth;
    out->tid = s->tid;
    out->tag = s->tag;
    out->truncated = s->truncated;
    return 1;
}

void ws_sampler_release(void) {
    if (g_running) return;
    if (g_slots) munmap(g_slots, g_max_samples * sizeof(slot_t));
    if (g_pcs) munmap(g_pcs, g_max_pcs * sizeof(uint64_t));
    g_slots = NULL; g_pcs = NULL;
    g_max_samples = 0; g_max_pcs = 0;
    atomic_store(&g_next_slot, 0); atomic_store(&g_next_pc, 0);
}

__attribute__((noinline)) void ws_touch_stack(size_t bytes) {
    if (bytes > (1u << 20)) bytes = 1u << 20;
    volatile char *p = __builtin_alloca(bytes);
    for (size_t i = 0; i < bytes; i += 4096) p[i] = 0;
    if (bytes) p[bytes - 1] = 0;
}
