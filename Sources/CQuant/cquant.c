// CQuant: packing and matmul kernels for the bf16, q8 and q4 weight formats. Layouts and the arithmetic
// rule are in include/cquant.h; design and measurements in Notes/formats.md.
//
// Compiled with -O3 -march=native -ffp-contract=off: the scalar code must not fuse a*b+c on its own, so that
// it gives the same bits as the SIMD code (which fuses exactly where the rule says).

#include "cquant.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512VNNI__) && defined(__F16C__)
#define CQ_SIMD 1
#include <immintrin.h>
#else
#define CQ_SIMD 0
#endif

// ---------------------------------------------------------------------------------------------------------
// Scalar conversions
// ---------------------------------------------------------------------------------------------------------

uint16_t cq_fp16_from_float(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t ax = x & 0x7FFFFFFFu;
    if (ax >= 0x7F800000u) return (uint16_t)(sign | (ax > 0x7F800000u ? 0x7E00u : 0x7C00u)); // NaN / inf
    if (ax >= 0x477FF000u) return (uint16_t)(sign | 0x7C00u);  // rounds to >= 65520: inf
    if (ax < 0x38800000u) {                                      // below 2^-14: a subnormal half
        float v;
        memcpy(&v, &ax, 4);
        uint32_t m = (uint32_t)nearbyintf(v * 16777216.0f);      // units of 2^-24, nearest even
        return (uint16_t)(sign | m);                             // m == 1024 is the smallest normal, correctly
    }
    uint32_t r = ax - ((127u - 15u) << 23);                      // re-bias the exponent
    r += 0x0FFFu + ((r >> 13) & 1u);                             // round the 13 dropped bits to nearest even
    return (uint16_t)(sign | (r >> 13));
}

float cq_float_from_fp16(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t e = (h >> 10) & 0x1Fu, m = h & 0x3FFu;
    uint32_t bits;
    if (e == 0) {
        float v = (float)m * 5.9604644775390625e-8f;  // m * 2^-24, exact
        return sign ? -v : v;
    }
    if (e == 31) bits = sign | 0x7F800000u | (m << 13);
    else bits = sign | ((e + 112u) << 23) | (m << 13);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t cq_bf16_from_float(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((u >> 16) | 0x40u);  // quiet NaN
    u += 0x7FFFu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

static inline float bf16_to_float(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

// ---------------------------------------------------------------------------------------------------------
// Layout arithmetic
// ---------------------------------------------------------------------------------------------------------

enum { BF16_NR = 32, Q_NR = 16, Q8_SB = 1088, Q4_SB = 576 };

static inline int round_up(int n, int m) { return (n + m - 1) / m * m; }

int cq_panel_rows(int format) {
    switch (format) {
    case CQ_BF16: return BF16_NR;
    case CQ_Q8: case CQ_Q4: return Q_NR;
    default: return 0;
    }
}

/// Bytes of one q8/q4 panel (16 rows over C padded to 64).
static inline size_t q_panel_bytes(int format, int C) {
    return (size_t)(round_up(C, 64) / 64) * (format == CQ_Q8 ? Q8_SB : Q4_SB);
}

size_t cq_packed_bytes(int format, int rows, int C) {
    if (rows <= 0 || C <= 0) return 0;
    switch (format) {
    case CQ_BF16: return (size_t)round_up(rows, BF16_NR) * (size_t)C * 2;
    case CQ_Q8: case CQ_Q4: return (size_t)(round_up(rows, Q_NR) / Q_NR) * q_panel_bytes(format, C);
    default: return 0;
    }
}

// ---------------------------------------------------------------------------------------------------------
// Packing (quantization) and unpacking
// ---------------------------------------------------------------------------------------------------------

/// The 32 values of row `row`, block b (0 past the matrix).
static void block_values(float *v, const float *w, int rows, int C, int row, int b) {
    for (int i = 0; i < 32; i++) {
        int k = 32 * b + i;
        v[i] = (row < rows && k < C) ? w[(size_t)row * C + k] : 0.0f;
    }
}

#ifndef CQ_SCALE_SEARCH
#define CQ_SCALE_SEARCH 1
#endif

/// The least-squares scale d = sum(q v) / sum(q^2) of the best of 21 candidate roundings q = clamp(round(v * iscale))
/// with iscale = base + step * i, i = -10...10 (ggml's make_qx_quants idea); `fallback` if none is usable. For a
/// candidate q the squared error at its best d is sum v^2 - (sum q v)^2 / sum q^2, so the best candidate has
/// the largest (sum q v)^2 / sum q^2. (AVX-512 when available: packing 124M weights takes ~1 s, not ~15.)
static float search_scale(const float *v, float base, float step, float lo, float hi, float fallback) {
    float best = 0, d0 = fallback;
#if CQ_SIMD
    const __m512 v0 = _mm512_loadu_ps(v), v1 = _mm512_loadu_ps(v + 16);
    const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
#endif
    for (int is = -10; is <= 10; is++) {
        const float iscale = base + step * is;
        float sqv, sqq;
#if CQ_SIMD
        const __m512 sc = _mm512_set1_ps(iscale);
        const __m512 r0 = _mm512_min_ps(vhi, _mm512_max_ps(vlo, _mm512_roundscale_ps(_mm512_mul_ps(sc, v0), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)));
        const __m512 r1 = _mm512_min_ps(vhi, _mm512_max_ps(vlo, _mm512_roundscale_ps(_mm512_mul_ps(sc, v1), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)));
        sqv = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_mul_ps(r0, v0), _mm512_mul_ps(r1, v1)));
        sqq = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_mul_ps(r0, r0), _mm512_mul_ps(r1, r1)));
#else
        sqv = 0; sqq = 0;
        for (int i = 0; i < 32; i++) {
            const float r = fminf(hi, fmaxf(lo, nearbyintf(iscale * v[i])));
            sqv += r * v[i];
            sqq += r * r;
        }
#endif
        if (sqq > 0 && sqv * sqv / sqq > best) { best = sqv * sqv / sqq; d0 = sqv / sqq; }
    }
    return d0;
}

/// q8: codes -127...127, q = round(v / scale) (nearest even) with the fp16 scale as stored. ggml's q8_0 takes
/// scale = max|v| / 127; with CQ_SCALE_SEARCH (the default) it is the least-squares scale of the best of 21
/// candidate roundings (inverse scales (127 + 0.5 i) / max|v|), 11% lower RMS error on Gaussian weights, the
/// same layout and decoding.
static uint16_t quantize_q8(const float *v, int8_t *q) {
    float amax = 0;
    for (int i = 0; i < 32; i++) amax = fmaxf(amax, fabsf(v[i]));
    float d0 = amax / 127.0f;
#if CQ_SCALE_SEARCH
    if (amax > 0) d0 = search_scale(v, 127.0f / amax, 0.5f / amax, -127, 127, d0);
#endif
    if (d0 > 65504.0f) d0 = 65504.0f;
    uint16_t h = cq_fp16_from_float(d0);
    float d = cq_float_from_fp16(h);
    for (int i = 0; i < 32; i++) {
        float r = d > 0 ? nearbyintf(v[i] / d) : 0.0f;
        if (r > 127) r = 127;
        if (r < -127) r = -127;
        q[i] = (int8_t)r;
    }
    return h;
}

/// q4: codes -8...7 (stored + 8), q = min(15, floor(v / scale + 8.5)) with the fp16 scale as stored. ggml's
/// q4_0 takes scale = m / -8, m the value of largest magnitude; with CQ_SCALE_SEARCH it is the least-squares
/// scale of the best of 21 candidate roundings (inverse scales -(8 + 0.1 i) / m), 6-9% lower RMS error.
static uint16_t quantize_q4(const float *v, uint8_t *q) {
    float amax = 0, m = 0;
    for (int i = 0; i < 32; i++) {
        if (fabsf(v[i]) > amax) { amax = fabsf(v[i]); m = v[i]; }
    }
    float d0 = m / -8.0f;
#if CQ_SCALE_SEARCH
    if (amax > 0) d0 = search_scale(v, -8.0f / m, -0.1f / m, -8, 7, d0);
#endif
    if (d0 > 65504.0f) d0 = 65504.0f;
    if (d0 < -65504.0f) d0 = -65504.0f;
    uint16_t h = cq_fp16_from_float(d0);
    float d = cq_float_from_fp16(h);
    for (int i = 0; i < 32; i++) {
        float r = d != 0 ? floorf(v[i] / d + 8.5f) : 8.0f;
        if (r > 15) r = 15;
        if (r < 0) r = 0;
        q[i] = (uint8_t)r;
    }
    return h;
}

void cq_pack_panels(int format, void *dst, const float *w, int rows, int C, int panel0, int panel1) {
    uint8_t *out = dst;
    if (format == CQ_BF16) {
        for (int p = panel0; p < panel1; p++) {
            uint16_t *panel = (uint16_t *)(out + (size_t)p * C * BF16_NR * 2);
            for (int j = 0; j < BF16_NR; j++) {
                int row = p * BF16_NR + j;
                for (int k = 0; k < C; k++)
                    panel[(size_t)k * BF16_NR + j] = row < rows ? cq_bf16_from_float(w[(size_t)row * C + k]) : 0;
            }
        }
        return;
    }
    if (format != CQ_Q8 && format != CQ_Q4) return;
    const int nsb = round_up(C, 64) / 64, SB = format == CQ_Q8 ? Q8_SB : Q4_SB;
    const size_t pbytes = q_panel_bytes(format, C);
    float v[32];
    for (int p = panel0; p < panel1; p++) {
        for (int sb = 0; sb < nsb; sb++) {
            uint8_t *s = out + (size_t)p * pbytes + (size_t)sb * SB;
            for (int h = 0; h < 2; h++) {
                const int b = 2 * sb + h;
                for (int j = 0; j < Q_NR; j++) {
                    block_values(v, w, rows, C, p * Q_NR + j, b);
                    uint16_t scale;
                    if (format == CQ_Q8) {
                        int8_t q[32];
                        scale = quantize_q8(v, q);
                        for (int g = 0; g < 8; g++)
                            for (int i = 0; i < 4; i++) s[h * 512 + g * 64 + j * 4 + i] = (uint8_t)q[4 * g + i];
                        memcpy(s + 1024 + h * 32 + j * 2, &scale, 2);
                    } else {
                        uint8_t q[32];
                        scale = quantize_q4(v, q);
                        for (int c = 0; c < 4; c++)
                            for (int i = 0; i < 4; i++)
                                s[h * 256 + c * 64 + j * 4 + i] = (uint8_t)(q[4 * c + i] | (q[16 + 4 * c + i] << 4));
                        memcpy(s + 512 + h * 32 + j * 2, &scale, 2);
                    }
                }
            }
        }
    }
}

void cq_pack(int format, void *dst, const float *w, int rows, int C) {
    int nr = cq_panel_rows(format);
    if (nr == 0 || rows <= 0 || C <= 0) return;
    cq_pack_panels(format, dst, w, rows, C, 0, round_up(rows, nr) / nr);
}

/// The integer code of W[row, k] and its block's scale (q8: q; q4: the nibble, offset 8).
static inline int q_code(int format, const uint8_t *packed, int C, int row, int k, float *scale) {
    const size_t pbytes = q_panel_bytes(format, C);
    const int p = row / Q_NR, j = row % Q_NR, b = k / 32, sb = b / 2, h = b % 2, kk = k % 32;
    const uint8_t *s = packed + (size_t)p * pbytes + (size_t)sb * (format == CQ_Q8 ? Q8_SB : Q4_SB);
    uint16_t hs;
    if (format == CQ_Q8) {
        memcpy(&hs, s + 1024 + h * 32 + j * 2, 2);
        *scale = cq_float_from_fp16(hs);
        return (int8_t)s[h * 512 + (kk / 4) * 64 + j * 4 + kk % 4];
    }
    memcpy(&hs, s + 512 + h * 32 + j * 2, 2);
    *scale = cq_float_from_fp16(hs);
    const int c = (kk % 16) / 4, i = kk % 4;
    const uint8_t byte = s[h * 256 + c * 64 + j * 4 + i];
    return kk < 16 ? (byte & 15) : (byte >> 4);
}

void cq_unpack(int format, float *dst, const void *packed, int rows, int C) {
    const uint8_t *src = packed;
    for (int row = 0; row < rows; row++) {
        for (int k = 0; k < C; k++) {
            float v;
            if (format == CQ_BF16) {
                const uint16_t *panel = (const uint16_t *)(src + (size_t)(row / BF16_NR) * C * BF16_NR * 2);
                v = bf16_to_float(panel[(size_t)k * BF16_NR + row % BF16_NR]);
            } else if (format == CQ_Q8) {
                float d;
                int q = q_code(format, src, C, row, k, &d);
                v = (float)q * d;
            } else if (format == CQ_Q4) {
                float d;
                int q = q_code(format, src, C, row, k, &d);
                v = (float)(q - 8) * d;
            } else {
                v = 0;
            }
            dst[(size_t)row * C + k] = v;
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Activation quantization (q8/q4): per row, per block of 32, ggml's q8_0 rule with an fp32 scale
// ---------------------------------------------------------------------------------------------------------

float cq_quantize_block(const float *x, int n, int8_t *q, int32_t *sum) {
    float amax = 0;
    for (int i = 0; i < n; i++) amax = fmaxf(amax, fabsf(x[i]));
    const float d = amax / 127.0f;
    const float id = d > 0 ? 1.0f / d : 0.0f;
    int32_t s = 0;
    for (int i = 0; i < n; i++) {
        float r = nearbyintf(x[i] * id);
        if (r > 127) r = 127;
        if (r < -127) r = -127;
        q[i] = (int8_t)r;
        s += q[i];
    }
    *sum = s;
    return d;
}

/// Quantized rows: xq [T][Cp] (0 past C), dx [T][nb], corr [T][nb] = offset * sum of the block's codes.
typedef struct {
    int8_t *xq;
    float *dx;
    int32_t *corr;
    int Cp, nb;
} qrows;

static void quantize_rows_scalar(qrows *r, const float *inp, int T, int C, int offset) {
    float tmp[32];
    for (int t = 0; t < T; t++) {
        for (int b = 0; b < r->nb; b++) {
            for (int i = 0; i < 32; i++) {
                int k = 32 * b + i;
                tmp[i] = k < C ? inp[(size_t)t * C + k] : 0.0f;
            }
            int32_t s;
            r->dx[t * r->nb + b] = cq_quantize_block(tmp, 32, r->xq + (size_t)t * r->Cp + 32 * b, &s);
            r->corr[t * r->nb + b] = offset * s;
        }
    }
}

#if CQ_SIMD
static void quantize_rows_simd(qrows *r, const float *inp, int T, int C, int offset) {
    const __m512 sign = _mm512_castsi512_ps(_mm512_set1_epi32(0x7FFFFFFF));
    for (int t = 0; t < T; t++) {
        const float *x = inp + (size_t)t * C;
        for (int b = 0; b < r->nb; b++) {
            const int k0 = 32 * b;
            int n0 = C - k0, n1 = C - k0 - 16;
            n0 = n0 < 0 ? 0 : (n0 > 16 ? 16 : n0);
            n1 = n1 < 0 ? 0 : (n1 > 16 ? 16 : n1);
            const __m512 v0 = _mm512_maskz_loadu_ps((__mmask16)((1u << n0) - 1), x + k0);
            const __m512 v1 = _mm512_maskz_loadu_ps((__mmask16)((1u << n1) - 1), x + k0 + 16);
            const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_and_ps(v0, sign), _mm512_and_ps(v1, sign)));
            const float d = amax / 127.0f;
            const float id = d > 0 ? 1.0f / d : 0.0f;
            const __m512 vid = _mm512_set1_ps(id);
            const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, vid));
            const __m512i q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, vid));
            int8_t *dst = r->xq + (size_t)t * r->Cp + k0;
            _mm_storeu_si128((__m128i *)dst, _mm512_cvtsepi32_epi8(q0));
            _mm_storeu_si128((__m128i *)(dst + 16), _mm512_cvtsepi32_epi8(q1));
            r->dx[t * r->nb + b] = d;
            r->corr[t * r->nb + b] = offset * _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
        }
    }
}
#endif

// Per-thread scratch for the quantized rows (grown on demand, freed when the thread exits).
typedef struct { void *p; size_t cap; } scratch_t;
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static void scratch_free(void *s) { scratch_t *x = s; free(x->p); free(x); }
static void scratch_make_key(void) { pthread_key_create(&scratch_key, scratch_free); }

static void *thread_scratch(size_t n) {
    pthread_once(&scratch_once, scratch_make_key);
    scratch_t *s = pthread_getspecific(scratch_key);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s) abort();
        pthread_setspecific(scratch_key, s);
    }
    if (s->cap < n) {
        free(s->p);
        size_t cap = (n + n / 2 + 4095) / 4096 * 4096;
        s->p = aligned_alloc(64, cap);
        if (!s->p) abort();
        s->cap = cap;
    }
    return s->p;
}

static qrows quantized_rows(const float *inp, int T, int C, int offset, int simd) {
    qrows r;
    r.Cp = round_up(C, 64);
    r.nb = r.Cp / 32;
    const size_t xbytes = (size_t)T * r.Cp, sbytes = (size_t)T * r.nb * 4;
    uint8_t *s = thread_scratch(xbytes + 2 * sbytes + 64);
    r.xq = (int8_t *)s;
    r.dx = (float *)(s + xbytes);
    r.corr = (int32_t *)(s + xbytes + sbytes);
#if CQ_SIMD
    if (simd) { quantize_rows_simd(&r, inp, T, C, offset); return r; }
#endif
    (void)simd;
    quantize_rows_scalar(&r, inp, T, C, offset);
    return r;
}

// ---------------------------------------------------------------------------------------------------------
// Scalar kernels (the rule, written out one output at a time)
// ---------------------------------------------------------------------------------------------------------

static void bf16_matmul_scalar(float *out, const float *inp, const uint8_t *w, const float *bias,
                               int T, int C, int OC, int col0, int col1) {
    for (int t = 0; t < T; t++) {
        for (int o = col0; o < col1; o++) {
            const uint16_t *panel = (const uint16_t *)(w + (size_t)(o / BF16_NR) * C * BF16_NR * 2) + o % BF16_NR;
            float acc = 0;
            for (int k = 0; k < C; k++) acc = fmaf(inp[(size_t)t * C + k], bf16_to_float(panel[(size_t)k * BF16_NR]), acc);
            out[(size_t)t * OC + o] = bias ? acc + bias[o] : acc;
        }
    }
}

static void q_matmul_scalar(int format, float *out, const float *inp, const uint8_t *w, const float *bias,
                            int T, int C, int OC, int col0, int col1) {
    const int offset = format == CQ_Q8 ? 128 : 8;
    qrows r = quantized_rows(inp, T, C, offset, 0);
    for (int t = 0; t < T; t++) {
        for (int o = col0; o < col1; o++) {
            float acc = 0;
            for (int b = 0; b < r.nb; b++) {
                int32_t dot = 0;
                float scale = 0;
                for (int i = 0; i < 32; i++) {
                    const int k = 32 * b + i;
                    int code = q_code(format, w, C, o, k, &scale);
                    if (format == CQ_Q8) code += 128;  // the kernels multiply the unsigned-offset code
                    dot += code * r.xq[(size_t)t * r.Cp + k];
                }
                dot -= r.corr[t * r.nb + b];
                const float s = scale * r.dx[t * r.nb + b];
                acc = fmaf((float)dot, s, acc);
            }
            out[(size_t)t * OC + o] = bias ? acc + bias[o] : acc;
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// AVX-512 kernels
// ---------------------------------------------------------------------------------------------------------

#if CQ_SIMD
#define INLINE static inline __attribute__((always_inline))

/// Lanes j of a 16-wide vector whose column o0 + j lies in [lo, hi).
INLINE __mmask16 lane_mask(int o0, int lo, int hi) {
    int a = lo - o0, b = hi - o0;
    if (a < 0) a = 0;
    if (b > 16) b = 16;
    if (b <= a) return 0;
    return (__mmask16)((((uint32_t)1 << b) - 1) & ~(((uint32_t)1 << a) - 1));
}

/// Stores v (+ bias) into the lanes of columns o0..o0+15 that lie in [lo, hi).
INLINE void store_lanes(float *row, const float *bias, int o0, int lo, int hi, __m512 v) {
    const __mmask16 m = lane_mask(o0, lo, hi);
    if (!m) return;
    if (bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, bias + o0));
    _mm512_mask_storeu_ps(row + o0, m, v);
}

INLINE __m512 widen_bf16(const uint16_t *p) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)p)), 16));
}

/// bf16: R rows (t..t+R-1) x P panels of 32 columns, one FMA chain per lane over k = 0..C-1.
INLINE void bf16_tile(const int R, const int P, float *out, const float *inp, const uint8_t *w, const float *bias,
                      int C, int OC, int t, int p, int lo, int hi) {
    __m512 acc[8][4][2];
    for (int r = 0; r < R; r++)
        for (int q = 0; q < P; q++) acc[r][q][0] = acc[r][q][1] = _mm512_setzero_ps();
    const uint16_t *panel[4];
    for (int q = 0; q < P; q++) panel[q] = (const uint16_t *)(w + (size_t)(p + q) * C * BF16_NR * 2);
    const float *x = inp + (size_t)t * C;
    for (int k = 0; k < C; k++) {
        __m512 wa[4], wb[4];
        for (int q = 0; q < P; q++) {
            wa[q] = widen_bf16(panel[q] + (size_t)k * BF16_NR);
            wb[q] = widen_bf16(panel[q] + (size_t)k * BF16_NR + 16);
        }
        for (int r = 0; r < R; r++) {
            const __m512 xv = _mm512_set1_ps(x[(size_t)r * C + k]);
            for (int q = 0; q < P; q++) {
                acc[r][q][0] = _mm512_fmadd_ps(xv, wa[q], acc[r][q][0]);
                acc[r][q][1] = _mm512_fmadd_ps(xv, wb[q], acc[r][q][1]);
            }
        }
    }
    for (int r = 0; r < R; r++) {
        float *row = out + (size_t)(t + r) * OC;
        for (int q = 0; q < P; q++) {
            const int o0 = (p + q) * BF16_NR;
            store_lanes(row, bias, o0, lo, hi, acc[r][q][0]);
            store_lanes(row, bias, o0 + 16, lo, hi, acc[r][q][1]);
        }
    }
}

static void bf16_matmul_simd(float *out, const float *inp, const uint8_t *w, const float *bias,
                             int T, int C, int OC, int col0, int col1) {
    const int p0 = col0 / BF16_NR, p1 = (col1 + BF16_NR - 1) / BF16_NR;
    if (T == 1) {  // decode: stream four panels at a time
        int p = p0;
        for (; p + 4 <= p1; p += 4) bf16_tile(1, 4, out, inp, w, bias, C, OC, 0, p, col0, col1);
        for (; p < p1; p++) bf16_tile(1, 1, out, inp, w, bias, C, OC, 0, p, col0, col1);
        return;
    }
    for (int r0 = 0; r0 < T; r0 += 64) {
        const int r1 = T < r0 + 64 ? T : r0 + 64;
        for (int p = p0; p < p1; p++) {
            int t = r0;
            for (; t + 8 <= r1; t += 8) bf16_tile(8, 1, out, inp, w, bias, C, OC, t, p, col0, col1);
            if (t + 4 <= r1) { bf16_tile(4, 1, out, inp, w, bias, C, OC, t, p, col0, col1); t += 4; }
            if (t + 2 <= r1) { bf16_tile(2, 1, out, inp, w, bias, C, OC, t, p, col0, col1); t += 2; }
            if (t < r1) bf16_tile(1, 1, out, inp, w, bias, C, OC, t, p, col0, col1);
        }
    }
}

INLINE __m512i bcast32(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

/// q8/q4: R rows x P panels of 16 columns. Per block: exact int32 dot products (vpdpbusd of the unsigned
/// weight code with the int8 activations), minus the offset correction, then acc = fma(float, scale_w * d_x, acc).
INLINE void q_tile(const int format, const int R, const int P, float *out, const qrows *x, const uint8_t *w,
                   size_t pbytes, const float *bias, int OC, int t, int p, int lo, int hi) {
    const int SB = format == CQ_Q8 ? Q8_SB : Q4_SB, nsb = x->Cp / 64;
    const int blockBytes = format == CQ_Q8 ? 512 : 256, scales = 2 * blockBytes;
    const __m512i m = format == CQ_Q8 ? _mm512_set1_epi8((char)0x80) : _mm512_set1_epi8(0x0F);
    __m512 accf[8][4];
    for (int r = 0; r < R; r++)
        for (int q = 0; q < P; q++) accf[r][q] = _mm512_setzero_ps();
    for (int sb = 0; sb < nsb; sb++) {
        for (int h = 0; h < 2; h++) {
            const int b = 2 * sb + h;
            __m512i acci[8][4];
            for (int r = 0; r < R; r++)
                for (int q = 0; q < P; q++) acci[r][q] = _mm512_setzero_si512();
            const uint8_t *blk[4];
            for (int q = 0; q < P; q++) blk[q] = w + (size_t)(p + q) * pbytes + (size_t)sb * SB + h * blockBytes;
            if (format == CQ_Q8) {
                for (int g = 0; g < 8; g++) {
                    __m512i wv[4];
                    for (int q = 0; q < P; q++) wv[q] = _mm512_xor_si512(_mm512_loadu_si512(blk[q] + g * 64), m);
                    for (int r = 0; r < R; r++) {
                        const __m512i xb = bcast32(x->xq + (size_t)(t + r) * x->Cp + 32 * b + 4 * g);
                        for (int q = 0; q < P; q++) acci[r][q] = _mm512_dpbusd_epi32(acci[r][q], wv[q], xb);
                    }
                }
            } else {
                for (int c = 0; c < 4; c++) {
                    __m512i wl[4], wh[4];
                    for (int q = 0; q < P; q++) {
                        const __m512i v = _mm512_loadu_si512(blk[q] + c * 64);
                        wl[q] = _mm512_and_si512(v, m);
                        wh[q] = _mm512_and_si512(_mm512_srli_epi16(v, 4), m);
                    }
                    for (int r = 0; r < R; r++) {
                        const int8_t *xr = x->xq + (size_t)(t + r) * x->Cp + 32 * b + 4 * c;
                        const __m512i xl = bcast32(xr), xh = bcast32(xr + 16);
                        for (int q = 0; q < P; q++) {
                            acci[r][q] = _mm512_dpbusd_epi32(acci[r][q], wl[q], xl);
                            acci[r][q] = _mm512_dpbusd_epi32(acci[r][q], wh[q], xh);
                        }
                    }
                }
            }
            __m512 sw[4];
            for (int q = 0; q < P; q++)
                sw[q] = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(w + (size_t)(p + q) * pbytes + (size_t)sb * SB + scales + h * 32)));
            for (int r = 0; r < R; r++) {
                const __m512i corr = _mm512_set1_epi32(x->corr[(t + r) * x->nb + b]);
                const __m512 dx = _mm512_set1_ps(x->dx[(t + r) * x->nb + b]);
                for (int q = 0; q < P; q++)
                    accf[r][q] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acci[r][q], corr)),
                                                 _mm512_mul_ps(sw[q], dx), accf[r][q]);
            }
        }
    }
    for (int r = 0; r < R; r++)
        for (int q = 0; q < P; q++) store_lanes(out + (size_t)(t + r) * OC, bias, (p + q) * Q_NR, lo, hi, accf[r][q]);
}

#ifndef CQ_TILE_R
#define CQ_TILE_R 6
#endif
#ifndef CQ_TILE_P
#define CQ_TILE_P 2
#endif

// One out-of-line function per (format, R, P) tile: each is its own register allocation problem, and
// profiles and disassembly name them (q8_tile_1x4 is the decode loop).
#define Q_TILE_FN(F, R, P)                                                                                 \
    static __attribute__((noinline)) void F##_tile_##R##x##P(float *out, const qrows *x, const uint8_t *w,   \
                                                            size_t pbytes, const float *bias, int OC, int t, \
                                                            int p, int lo, int hi) {                        \
        q_tile(F == Q8F ? CQ_Q8 : CQ_Q4, R, P, out, x, w, pbytes, bias, OC, t, p, lo, hi);                  \
    }
enum { Q8F = CQ_Q8, Q4F = CQ_Q4 };
#define Q_TILES(F) Q_TILE_FN(F, 1, 4) Q_TILE_FN(F, 1, 1) Q_TILE_FN(F, 1, 2) Q_TILE_FN(F, 2, 1) Q_TILE_FN(F, 2, 2) \
    Q_TILE_FN(F, 4, 1) Q_TILE_FN(F, 4, 2) Q_TILE_FN(F, 8, 1) Q_TILE_FN(F, 8, 2) Q_TILE_FN(F, 6, 1) Q_TILE_FN(F, 6, 2)
Q_TILES(Q8F)
Q_TILES(Q4F)
#define TILE(F, R, P) F##_tile_##R##x##P
#define CALL_TILE(F, R, P, t) TILE(F, R, P)(out, &x, w, pbytes, bias, OC, t, p, col0, col1)

#define Q_ROWS_(F, P, R)                                                                    \
    do {                                                                                    \
        int t = r0;                                                                         \
        for (; t + R <= r1; t += R) CALL_TILE(F, R, P, t);                                  \
        if (R > 4 && t + 4 <= r1) { CALL_TILE(F, 4, P, t); t += 4; }                        \
        if (t + 2 <= r1) { CALL_TILE(F, 2, P, t); t += 2; }                                 \
        if (t < r1) CALL_TILE(F, 1, P, t);                                                  \
    } while (0)
#define Q_ROWS(F, P, R) Q_ROWS_(F, P, R)

#define Q_MATMUL(F)                                                                          \
    static void q_matmul_simd_##F(float *out, const float *inp, const uint8_t *w, const float *bias, \
                                  int T, int C, int OC, int col0, int col1) {                \
        const qrows x = quantized_rows(inp, T, C, F == CQ_Q8 ? 128 : 8, 1);                  \
        const size_t pbytes = q_panel_bytes(F, C);                                           \
        const int p0 = col0 / Q_NR, p1 = (col1 + Q_NR - 1) / Q_NR;                           \
        if (T == 1) {                                                                        \
            int p = p0;                                                                      \
            for (; p + 4 <= p1; p += 4) CALL_TILE(F, 1, 4, 0);                               \
            for (; p < p1; p++) CALL_TILE(F, 1, 1, 0);                                       \
            return;                                                                          \
        }                                                                                    \
        for (int r0 = 0; r0 < T; r0 += 64) {                                                 \
            const int r1 = T < r0 + 64 ? T : r0 + 64;                                        \
            int p = p0;                                                                      \
            for (; p + CQ_TILE_P <= p1; p += CQ_TILE_P) Q_ROWS(F, CQ_TILE_P, CQ_TILE_R);     \
            for (; p < p1; p++) Q_ROWS(F, 1, CQ_TILE_R);                                     \
        }                                                                                    \
    }

Q_MATMUL(Q8F)
Q_MATMUL(Q4F)
#endif  // CQ_SIMD

// ---------------------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------------------

int cq_simd_available(void) { return CQ_SIMD; }

void cq_matmul_scalar(int format, float *out, const float *inp, const void *packed, const float *bias,
                      int T, int C, int OC, int col0, int col1) {
    if (T <= 0 || col0 >= col1) return;
    if (format == CQ_BF16) bf16_matmul_scalar(out, inp, packed, bias, T, C, OC, col0, col1);
    else if (format == CQ_Q8 || format == CQ_Q4) q_matmul_scalar(format, out, inp, packed, bias, T, C, OC, col0, col1);
}

void cq_matmul(int format, float *out, const float *inp, const void *packed, const float *bias,
               int T, int C, int OC, int col0, int col1) {
    if (T <= 0 || col0 >= col1) return;
#if CQ_SIMD
    switch (format) {
    case CQ_BF16: bf16_matmul_simd(out, inp, packed, bias, T, C, OC, col0, col1); return;
    case CQ_Q8: q_matmul_simd_Q8F(out, inp, packed, bias, T, C, OC, col0, col1); return;
    case CQ_Q4: q_matmul_simd_Q4F(out, inp, packed, bias, T, C, OC, col0, col1); return;
    default: return;
    }
#else
    cq_matmul_scalar(format, out, inp, packed, bias, T, C, OC, col0, col1);
#endif
}
