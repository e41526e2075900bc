// CQuant: weight formats for the matmul variants `bf16`, `q8` and `q4` (AVX-512 intrinsics, scalar fallback).
//
// Every kernel computes   out[t, o] = bias[o] + sum_k inp[t, k] * W[o, k]   for the columns o in [col0, col1),
// t in [0, T), from a weight W [rows, C] packed once into the format's layout (cq_pack). Layouts, in bytes
// (Notes/formats.md draws them):
//
//   bf16  panels of 32 rows (= output columns), k-major:       u16[panel][k][32]            (64 B per k)
//         each value is the fp32 weight rounded to nearest-even bfloat16; rows past the last are 0.
//   q8    panels of 16 rows, C padded to a multiple of 64, superblocks of 2 blocks of 32 k:
//           superblock = [block 0: 8 groups x 16 rows x 4 k of int8][block 1: the same][16 fp16 scales of
//                         block 0][16 fp16 scales of block 1]                             (1088 B per 64 k)
//         byte g*64 + j*4 + i of a block = q[row 16p+j, k 32b+4g+i], W ~ q * scale (q in -127...127,
//         scale = fp16(max|W| / 127) per row and block, like ggml's q8_0).
//   q4    panels of 16 rows, C padded to a multiple of 64, superblocks of 2 blocks of 32 k:
//           superblock = [block 0: 4 chunks of 64 B][block 1: the same][16 fp16 scales][16 fp16 scales]
//                                                                                        (576 B per 64 k)
//         byte c*64 + j*4 + i: low nibble q[16p+j, 32b+4c+i], high nibble q[16p+j, 32b+16+4c+i], q in 0...15,
//         W ~ (q - 8) * scale, scale = fp16(m / -8) where m is the value of largest magnitude (ggml's q4_0).
//
// Arithmetic (the determinism rule: each output's bits depend only on its row of inp and its column of W,
// never on T, the column range, the tile or the thread):
//   bf16  one fp32 FMA chain over k = 0..C-1 of inp * widen(W), from 0, then + bias: the `tiled` variant's
//         chain over the bf16-rounded weight, bit for bit.
//   q8/q4 each row of inp is quantized per block of 32 (ggml's q8_0: d = max|x| / 127, x ~ round(x / d)),
//         the int8 x int8 block dot products are exact int32 (VNNI vpdpbusd on the unsigned-offset weight,
//         minus offset * sum(x_q)), and acc = fma(float(dot), scale_w * d_x, acc) over the blocks in order,
//         then + bias.
#pragma once
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Weight formats (the values stored in model files).
enum {
    CQ_F32 = 0,
    CQ_BF16 = 1,
    CQ_Q8 = 2,
    CQ_Q4 = 3,
};

/// Rows per panel (output columns a kernel computes together): 32 for bf16, 16 for q8/q4, 0 for f32/unknown.
int cq_panel_rows(int format);
/// Bytes of the packed copy of a weight [rows, C] (whole panels, C padded as the layout says); 0 for f32/unknown.
size_t cq_packed_bytes(int format, int rows, int C);
/// Packs (quantizes) w [rows, C] into dst [cq_packed_bytes] (any alignment; 64 is best).
void cq_pack(int format, void *dst, const float *w, int rows, int C);
/// Packs only panels [panel0, panel1) (for packing in parallel); cq_pack = all panels.
void cq_pack_panels(int format, void *dst, const float *w, int rows, int C, int panel0, int panel1);
/// The weight the kernels actually multiply by, as fp32 [rows, C] (exact: bf16 widened, q * scale).
void cq_unpack(int format, float *dst, const void *packed, int rows, int C);

/// out [T, OC] (row stride OC), inp [T, C], packed weight of [>= OC rows, C], bias [OC] or NULL.
/// Writes only columns [col0, col1) of each row. Thread-safe (q8/q4 quantize inp into a per-thread scratch).
void cq_matmul(int format, float *out, const float *inp, const void *packed, const float *bias,
               int T, int C, int OC, int col0, int col1);
/// The same with the portable scalar code (no intrinsics): bit-identical to cq_matmul (tests check it).
void cq_matmul_scalar(int format, float *out, const float *inp, const void *packed, const float *bias,
                      int T, int C, int OC, int col0, int col1);
/// 1 if cq_matmul uses the AVX-512 (F, BW, VNNI, F16C) code, 0 if it falls back to the scalar code.
int cq_simd_available(void);

/// ggml-style activation quantization of n floats into int8 (d = max|x| / 127, q = round-to-nearest-even(x / d)),
/// exposed for tests: returns d, writes q[n] and *sum = sum of q.
float cq_quantize_block(const float *x, int n, int8_t *q, int32_t *sum);

/// fp16 <-> fp32 as the formats store scales (round to nearest even; no intrinsics needed).
uint16_t cq_fp16_from_float(float f);
float cq_float_from_fp16(uint16_t h);
/// bfloat16 rounding of fp32 (nearest even), as bf16 stores weights.
uint16_t cq_bf16_from_float(float f);

#ifdef __cplusplus
}
#endif
