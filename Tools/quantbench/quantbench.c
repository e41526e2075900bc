// quantbench: the design experiments behind Notes/formats.md (not part of the build).
// Times the CQuant kernels and the alternatives that were measured and not chosen:
//   f32     fp32 panels of 32, the `tiled` layout (the bandwidth yardstick: 4 bytes per weight)
//   bf16    CQuant's bf16 (widen to fp32 in registers, FMA)             2 B/weight
//   bf16dp  bf16 pairs with avx512_bf16 vdpbf16ps (activations rounded to bf16)
//   q8      CQuant's q8 (int8 activations, VNNI vpdpbusd)               1.0625 B/weight
//   q8f     int8 weights widened to fp32 in registers, fp32 activations 1.0625 B/weight
//   q4      CQuant's q4 (int8 activations, VNNI)                        0.5625 B/weight
// Build and run (from the repository root):
//   clang -O3 -march=native -ffp-contract=off -pthread -ISources/CQuant/include -o /tmp/quantbench Tools/quantbench/quantbench.c -lm
//   /tmp/quantbench [threads] [T] [C] [OC]     e.g. /tmp/quantbench 1 1 768 3072
// T = 1 cycles through copies of the weight totalling >= 512 MB (this host's L3 is 105 MB).
#include "../../Sources/CQuant/cquant.c"

#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// ---- alternative kernels --------------------------------------------------------------------------------

// f32 panels of 32 (k-major), GEMV over 4 panels / tile 8x32 for T > 1.
static size_t f32_bytes(int rows, int C) { return (size_t)round_up(rows, 32) * C * 4; }
static void f32_pack(float *dst, const float *w, int rows, int C) {
    for (int p = 0; p < round_up(rows, 32) / 32; p++)
        for (int j = 0; j < 32; j++)
            for (int k = 0; k < C; k++) {
                int row = p * 32 + j;
                dst[(size_t)p * C * 32 + (size_t)k * 32 + j] = row < rows ? w[(size_t)row * C + k] : 0;
            }
}
INLINE void f32_tile(const int R, const int P, float *out, const float *inp, const float *w, const float *bias,
                     int C, int OC, int t, int p, int lo, int hi) {
    __m512 acc[8][4][2];
    for (int r = 0; r < R; r++) for (int q = 0; q < P; q++) acc[r][q][0] = acc[r][q][1] = _mm512_setzero_ps();
    for (int k = 0; k < C; k++) {
        __m512 wa[4], wb[4];
        for (int q = 0; q < P; q++) {
            const float *pp = w + (size_t)(p + q) * C * 32 + (size_t)k * 32;
            wa[q] = _mm512_loadu_ps(pp); wb[q] = _mm512_loadu_ps(pp + 16);
        }
        for (int r = 0; r < R; r++) {
            __m512 xv = _mm512_set1_ps(inp[(size_t)(t + r) * C + k]);
            for (int q = 0; q < P; q++) {
                acc[r][q][0] = _mm512_fmadd_ps(xv, wa[q], acc[r][q][0]);
                acc[r][q][1] = _mm512_fmadd_ps(xv, wb[q], acc[r][q][1]);
            }
        }
    }
    for (int r = 0; r < R; r++) for (int q = 0; q < P; q++) {
        store_lanes(out + (size_t)(t + r) * OC, bias, (p + q) * 32, lo, hi, acc[r][q][0]);
        store_lanes(out + (size_t)(t + r) * OC, bias, (p + q) * 32 + 16, lo, hi, acc[r][q][1]);
    }
}
static void f32_matmul(float *out, const float *inp, const float *w, const float *bias, int T, int C, int OC, int c0, int c1) {
    int p0 = c0 / 32, p1 = (c1 + 31) / 32;
    if (T == 1) { int p = p0; for (; p + 4 <= p1; p += 4) f32_tile(1, 4, out, inp, w, bias, C, OC, 0, p, c0, c1);
                  for (; p < p1; p++) f32_tile(1, 1, out, inp, w, bias, C, OC, 0, p, c0, c1); return; }
    for (int p = p0; p < p1; p++) { int t = 0; for (; t + 8 <= T; t += 8) f32_tile(8, 1, out, inp, w, bias, C, OC, t, p, c0, c1);
        for (; t < T; t++) f32_tile(1, 1, out, inp, w, bias, C, OC, t, p, c0, c1); }
}

// bf16 pairs for vdpbf16ps: panels of 16 rows, [p][k/2][j][2] (C padded to even).
static size_t bf16dp_bytes(int rows, int C) { return (size_t)round_up(rows, 16) * round_up(C, 2) * 2; }
static void bf16dp_pack(uint16_t *dst, const float *w, int rows, int C) {
    int Ce = round_up(C, 2);
    for (int p = 0; p < round_up(rows, 16) / 16; p++)
        for (int kp = 0; kp < Ce / 2; kp++)
            for (int j = 0; j < 16; j++)
                for (int i = 0; i < 2; i++) {
                    int row = p * 16 + j, k = 2 * kp + i;
                    dst[(size_t)p * Ce * 16 + (size_t)kp * 32 + j * 2 + i] = (row < rows && k < C) ? cq_bf16_from_float(w[(size_t)row * C + k]) : 0;
                }
}
static _Thread_local uint16_t *xbf; static _Thread_local size_t xbfcap;
INLINE void bf16dp_tile(const int R, const int P, float *out, const uint32_t *xb, int Ce, const uint16_t *w, const float *bias,
                        int OC, int t, int p, int lo, int hi) {
    __m512 acc[8][4];
    for (int r = 0; r < R; r++) for (int q = 0; q < P; q++) acc[r][q] = _mm512_setzero_ps();
    for (int kp = 0; kp < Ce / 2; kp++) {
        __m512bh wv[4];
        for (int q = 0; q < P; q++) wv[q] = (__m512bh)_mm512_loadu_si512(w + (size_t)(p + q) * Ce * 16 + (size_t)kp * 32);
        for (int r = 0; r < R; r++) {
            __m512bh xv = (__m512bh)_mm512_set1_epi32((int)xb[(size_t)(t + r) * (Ce / 2) + kp]);
            for (int q = 0; q < P; q++) acc[r][q] = _mm512_dpbf16_ps(acc[r][q], wv[q], xv);
        }
    }
    for (int r = 0; r < R; r++) for (int q = 0; q < P; q++) store_lanes(out + (size_t)(t + r) * OC, bias, (p + q) * 16, lo, hi, acc[r][q]);
}
static void bf16dp_matmul(float *out, const float *inp, const uint16_t *w, const float *bias, int T, int C, int OC, int c0, int c1) {
    int Ce = round_up(C, 2);
    size_t need = (size_t)T * Ce;
    if (xbfcap < need) { free(xbf); xbf = aligned_alloc(64, need * 2 + 64); xbfcap = need; }
    for (int t = 0; t < T; t++) for (int k = 0; k < Ce; k++) xbf[(size_t)t * Ce + k] = k < C ? cq_bf16_from_float(inp[(size_t)t * C + k]) : 0;
    const uint32_t *xb = (const uint32_t *)xbf;
    int p0 = c0 / 16, p1 = (c1 + 15) / 16;
    if (T == 1) { int p = p0; for (; p + 4 <= p1; p += 4) bf16dp_tile(1, 4, out, xb, Ce, w, bias, OC, 0, p, c0, c1);
                  for (; p < p1; p++) bf16dp_tile(1, 1, out, xb, Ce, w, bias, OC, 0, p, c0, c1); return; }
    int p = p0;
    for (; p + 2 <= p1; p += 2) { int t = 0; for (; t + 8 <= T; t += 8) bf16dp_tile(8, 2, out, xb, Ce, w, bias, OC, t, p, c0, c1);
        for (; t < T; t++) bf16dp_tile(1, 2, out, xb, Ce, w, bias, OC, t, p, c0, c1); }
    for (; p < p1; p++) for (int t = 0; t < T; t++) bf16dp_tile(1, 1, out, xb, Ce, w, bias, OC, t, p, c0, c1);
}

// q8 with fp32 activations: panels of 16 rows, per block of 32 k: [32 k][16 j] int8 then 16 fp16 scales (544 B).
static size_t q8f_bytes(int rows, int C) { return (size_t)(round_up(rows, 16) / 16) * (round_up(C, 32) / 32) * 544; }
static void q8f_pack(uint8_t *dst, const float *w, int rows, int C) {
    int nb = round_up(C, 32) / 32; float v[32]; int8_t q[32];
    for (int p = 0; p < round_up(rows, 16) / 16; p++)
        for (int b = 0; b < nb; b++) {
            uint8_t *blk = dst + ((size_t)p * nb + b) * 544;
            for (int j = 0; j < 16; j++) {
                block_values(v, w, rows, C, p * 16 + j, b);
                uint16_t s = quantize_q8(v, q);
                for (int i = 0; i < 32; i++) blk[i * 16 + j] = (uint8_t)q[i];
                memcpy(blk + 512 + j * 2, &s, 2);
            }
        }
}
INLINE void q8f_tile(const int R, const int P, float *out, const float *inp, int C, const uint8_t *w, const float *bias,
                     int OC, int t, int p, int lo, int hi) {
    int nb = round_up(C, 32) / 32;
    __m512 acc[8][4];
    for (int r = 0; r < R; r++) for (int q = 0; q < P; q++) acc[r][q] = _mm512_setzero_ps();
    for (int b = 0; b < nb; b++) {
        __m512 ab[8][4];
        for (int r = 0; r < R; r++) for (int q = 0; q < P; q++) ab[r][q] = _mm512_setzero_ps();
        int kn = C - 32 * b < 32 ? C - 32 * b : 32;
        for (int i = 0; i < kn; i++) {
            __m512 wv[4];
            for (int q = 0; q < P; q++)
                wv[q] = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(w + ((size_t)(p + q) * nb + b) * 544 + i * 16))));
            for (int r = 0; r < R; r++) {
                __m512 xv = _mm512_set1_ps(inp[(size_t)(t + r) * C + 32 * b + i]);
                for (int q = 0; q < P; q++) ab[r][q] = _mm512_fmadd_ps(xv, wv[q], ab[r][q]);
            }
        }
        for (int q = 0; q < P; q++) {
            __m512 s = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(w + ((size_t)(p + q) * nb + b) * 544 + 512)));
            for (int r = 0; r < R; r++) acc[r][q] = _mm512_fmadd_ps(ab[r][q], s, acc[r][q]);
        }
    }
    for (int r = 0; r < R; r++) for (int q = 0; q < P; q++) store_lanes(out + (size_t)(t + r) * OC, bias, (p + q) * 16, lo, hi, acc[r][q]);
}
static void q8f_matmul(float *out, const float *inp, const uint8_t *w, const float *bias, int T, int C, int OC, int c0, int c1) {
    int p0 = c0 / 16, p1 = (c1 + 15) / 16;
    if (T == 1) { int p = p0; for (; p + 4 <= p1; p += 4) q8f_tile(1, 4, out, inp, C, w, bias, OC, 0, p, c0, c1);
                  for (; p < p1; p++) q8f_tile(1, 1, out, inp, C, w, bias, OC, 0, p, c0, c1); return; }
    int p = p0;
    for (; p + 2 <= p1; p += 2) { int t = 0; for (; t + 4 <= T; t += 4) q8f_tile(4, 2, out, inp, C, w, bias, OC, t, p, c0, c1);
        for (; t < T; t++) q8f_tile(1, 2, out, inp, C, w, bias, OC, t, p, c0, c1); }
    for (; p < p1; p++) for (int t = 0; t < T; t++) q8f_tile(1, 1, out, inp, C, w, bias, OC, t, p, c0, c1);
}

// ---- harness ----------------------------------------------------------------------------------------------

enum { K_F32, K_BF16, K_BF16DP, K_Q8, K_Q8F, K_Q4, K_N };
static const char *names[K_N] = {"f32", "bf16", "bf16dp", "q8", "q8f", "q4"};

static size_t kbytes(int k, int rows, int C) {
    switch (k) {
    case K_F32: return f32_bytes(rows, C);
    case K_BF16: return cq_packed_bytes(CQ_BF16, rows, C);
    case K_BF16DP: return bf16dp_bytes(rows, C);
    case K_Q8: return cq_packed_bytes(CQ_Q8, rows, C);
    case K_Q8F: return q8f_bytes(rows, C);
    default: return cq_packed_bytes(CQ_Q4, rows, C);
    }
}
static void kpack(int k, void *dst, const float *w, int rows, int C) {
    switch (k) {
    case K_F32: f32_pack(dst, w, rows, C); break;
    case K_BF16: cq_pack(CQ_BF16, dst, w, rows, C); break;
    case K_BF16DP: bf16dp_pack(dst, w, rows, C); break;
    case K_Q8: cq_pack(CQ_Q8, dst, w, rows, C); break;
    case K_Q8F: q8f_pack(dst, w, rows, C); break;
    default: cq_pack(CQ_Q4, dst, w, rows, C); break;
    }
}
static void krun(int k, float *out, const float *inp, const void *w, const float *bias, int T, int C, int OC, int c0, int c1) {
    switch (k) {
    case K_F32: f32_matmul(out, inp, w, bias, T, C, OC, c0, c1); break;
    case K_BF16: cq_matmul(CQ_BF16, out, inp, w, bias, T, C, OC, c0, c1); break;
    case K_BF16DP: bf16dp_matmul(out, inp, w, bias, T, C, OC, c0, c1); break;
    case K_Q8: cq_matmul(CQ_Q8, out, inp, w, bias, T, C, OC, c0, c1); break;
    case K_Q8F: q8f_matmul(out, inp, w, bias, T, C, OC, c0, c1); break;
    default: cq_matmul(CQ_Q4, out, inp, w, bias, T, C, OC, c0, c1); break;
    }
}

// A two-thread spin "pool": the helper runs the second half of the columns of every call.
static atomic_int gen, done;
static struct { int k, T, C, OC, c0, c1; float *out; const float *inp; const void *w; const float *bias; } job;
static void *helper(void *arg) {
    (void)arg;
    int seen = 0;
    for (;;) {
        int g;
        while ((g = atomic_load_explicit(&gen, memory_order_acquire)) == seen) { }
        if (g < 0) return NULL;
        seen = g;
        krun(job.k, job.out, job.inp, job.w, job.bias, job.T, job.C, job.OC, job.c0, job.c1);
        atomic_store_explicit(&done, g, memory_order_release);
    }
}

int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }
static float urand(uint64_t *s) { *s ^= *s << 13; *s ^= *s >> 7; *s ^= *s << 17; return (float)((*s >> 40) / (double)(1 << 23) - 1); }

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1, T = argc > 2 ? atoi(argv[2]) : 1;
    int C = argc > 3 ? atoi(argv[3]) : 768, OC = argc > 4 ? atoi(argv[4]) : 3072;
    const char *only = getenv("ONLY");
    uint64_t s = 88172645463325252ull;
    float *w = malloc((size_t)OC * C * 4), *inp = malloc((size_t)T * C * 4), *bias = malloc(OC * 4);
    float *ref = malloc((size_t)T * OC * 4), *out = malloc((size_t)T * OC * 4);
    for (size_t i = 0; i < (size_t)OC * C; i++) w[i] = urand(&s);
    for (size_t i = 0; i < (size_t)T * C; i++) inp[i] = urand(&s);
    for (int i = 0; i < OC; i++) bias[i] = urand(&s);
    for (int t = 0; t < T; t++)
        for (int o = 0; o < OC; o++) {
            double a = bias[o];
            for (int k = 0; k < C; k++) a += (double)inp[(size_t)t * C + k] * w[(size_t)o * C + k];
            ref[(size_t)t * OC + o] = (float)a;
        }
    pthread_t th;
    if (threads > 1) pthread_create(&th, NULL, helper, NULL);
    printf("T=%d C=%d OC=%d threads=%d (tile R=%d P=%d)\n", T, C, OC, threads, CQ_TILE_R, CQ_TILE_P);
    printf("  kernel   bytes/w   rel.rms err     time us   GB/s    GFLOP/s\n");
    for (int k = 0; k < K_N; k++) {
        if (only && !strstr(only, names[k])) continue;
        size_t bytes = kbytes(k, OC, C);
        int copies = T == 1 ? (int)((512u << 20) / bytes + 1) : 1;
        void **ws = malloc(copies * sizeof(void *));
        for (int c = 0; c < copies; c++) { ws[c] = aligned_alloc(64, (bytes + 63) / 64 * 64); if (c == 0) kpack(k, ws[0], w, OC, C); else memcpy(ws[c], ws[0], bytes); }
        // error
        krun(k, out, inp, ws[0], bias, T, C, OC, 0, OC);
        double e2 = 0, r2 = 0;
        for (size_t i = 0; i < (size_t)T * OC; i++) { double d = out[i] - ref[i]; e2 += d * d; r2 += (double)ref[i] * ref[i]; }
        // time: each call alone, for >= 1.5 s (or 20000 calls); the machine is shared, so the figure is the
        // 10th percentile of the per-call times (calls of tens of us mostly run undisturbed)
        int half = (OC / 2 + 63) / 64 * 64;
        static double times[20000];
        int n = 0;
        double tstart = now();
        for (int round = 0; round < 1; round++) {
            double t0 = now(), t1;
            do {
                const void *wc = ws[n % copies];
                if (threads > 1) {
                    job.k = k; job.T = T; job.C = C; job.OC = OC; job.c0 = half; job.c1 = OC; job.out = out; job.inp = inp; job.w = wc; job.bias = bias;
                    int g = n + 1;
                    atomic_store_explicit(&gen, g, memory_order_release);
                    krun(k, out, inp, wc, bias, T, C, OC, 0, half);
                    while (atomic_load_explicit(&done, memory_order_acquire) != g) { }
                } else {
                    krun(k, out, inp, wc, bias, T, C, OC, 0, OC);
                }
                t1 = now();
                times[n++] = t1 - t0;
                t0 = t1;
            } while (t1 - tstart < 1.5 && n < 20000);
        }
        int cmp(const void *a, const void *b);
        qsort(times, n, sizeof(double), cmp);
        double best = times[n / 10];
        printf("  %-7s  %6.4f   %10.3e   %10.1f  %6.1f  %8.1f\n", names[k], (double)bytes / ((double)OC * C), sqrt(e2 / r2),
               best * 1e6, bytes / best / 1e9, 2.0 * T * C * OC / best / 1e9);
        for (int c = 0; c < copies; c++) free(ws[c]);
        free(ws);
    }
    if (threads > 1) { atomic_store(&gen, -1); pthread_join(th, NULL); }
    return 0;
}
