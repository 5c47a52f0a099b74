"""CUDA C source of the colour-class Gibbs sweep (:mod:`relax.gpu.gibbs`).

The source is a Python string (so that it ships with the package) and compiles three
ways: by NVRTC inside cupy (``RawModule``), by ``nvcc --ptx`` (a test catches syntax
errors without a device), and as host C++ with ``-DRELAX_HOST_TEST`` (a test runs the very
update functions on the CPU through ``ctypes`` and holds them to the numba kernel).

One thread updates one site of one chain: x[i, c] for the i-th site of the colour class
and chain c (chains fastest, so a warp reads contiguous spins).  The arithmetic is the
numba kernel's (:mod:`relax.kernels.gibbs`) written out with explicit ``fmaf``:

    a = hi32(SplitMix64(key + (s·n + i)·γ)),   u = lowbias32(a ⊕ chain_key_c) >> 8 · 2⁻²⁴,
    field = h_i + Σ_e w_e x_{j_e}  (neighbours four at a time, as the CPU kernel adds them),
    x_i ← +1 if u + u·exp32(clamp(−2 field, ±40)) < 1 else −1,

with exp32 the Cody–Waite reduction and Cephes polynomial of the CPU kernel.  Products
w·x with x = ±1 are exact, so the field is the CPU kernel's to the bit; the exponential
agrees unless the two compilers contract its multiply-adds differently.
"""

GIBBS = r"""
#ifdef RELAX_HOST_TEST
#include <math.h>
#include <string.h>
#define RELAX_HD
#define RELAX_FMA(a, b, c) fmaf((a), (b), (c))
#else
#define RELAX_HD __host__ __device__
#define RELAX_FMA(a, b, c) fmaf((a), (b), (c))
#endif

typedef unsigned long long u64;
typedef unsigned int u32;

RELAX_HD inline u32 site_hash(u64 key, u64 counter) {
    u64 z = key + counter * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return (u32)((z ^ (z >> 31)) >> 32);
}

RELAX_HD inline float uniform24(u32 a, u32 chain_key) {
    u32 z = a ^ chain_key;
    z = (z ^ (z >> 16)) * 0x7FEB352DU;
    z = (z ^ (z >> 15)) * 0x846CA68BU;
    z = z ^ (z >> 16);
    return (float)(int)(z >> 8) * 5.9604644775390625e-08f;
}

RELAX_HD inline float exp2i(int k) {
    u32 bits = (u32)(k + 127) << 23;
#ifdef RELAX_HOST_TEST
    float out;
    memcpy(&out, &bits, sizeof(out));
    return out;
#else
    return __uint_as_float(bits);
#endif
}

RELAX_HD inline float exp32(float y) {
    float k = floorf(RELAX_FMA(y, 1.4426950408889634f, 0.5f));
    float r = RELAX_FMA(-k, 0.693359375f, y);
    r = RELAX_FMA(-k, -2.12194440e-4f, r);
    float p = RELAX_FMA(1.9875691500e-4f, r, 1.3981999507e-3f);
    p = RELAX_FMA(p, r, 8.3334519073e-3f);
    p = RELAX_FMA(p, r, 4.1665795894e-2f);
    p = RELAX_FMA(p, r, 1.6666665459e-1f);
    p = RELAX_FMA(p, r, 5.0000001201e-1f);
    p = RELAX_FMA(p, r * r, r) + 1.0f;
    return p * exp2i((int)k);
}

RELAX_HD inline signed char draw(float f, u32 a, u32 chain_key) {
    float y = fminf(fmaxf(-2.0f * f, -40.0f), 40.0f);
    float u = uniform24(a, chain_key);
    return RELAX_FMA(u, exp32(y), u) < 1.0f ? (signed char)1 : (signed char)-1;
}

RELAX_HD inline float pair_field(const signed char* x, int i, int c, int C, const float* h,
                                 const int* ptr, const int* nbr, const float* w) {
    float f = h[i];
    int e = ptr[i], end = ptr[i + 1];
    while (end - e >= 4) {
        float s = w[e] * (float)x[(long long)nbr[e] * C + c];
        s = RELAX_FMA(w[e + 1], (float)x[(long long)nbr[e + 1] * C + c], s);
        s = RELAX_FMA(w[e + 2], (float)x[(long long)nbr[e + 2] * C + c], s);
        s = RELAX_FMA(w[e + 3], (float)x[(long long)nbr[e + 3] * C + c], s);
        f += s;
        e += 4;
    }
    for (; e < end; ++e) {
        f = RELAX_FMA(w[e], (float)x[(long long)nbr[e] * C + c], f);
    }
    return f;
}

RELAX_HD inline float general_field(const signed char* x, int i, int c, int C,
                                    const float* h, const int* ptr, const float* w,
                                    const int* oth_ptr, const int* others) {
    float f = h[i];
    for (int e = ptr[i]; e < ptr[i + 1]; ++e) {
        signed char prod = 1;
        for (int t = oth_ptr[e]; t < oth_ptr[e + 1]; ++t) {
            prod = (signed char)(prod * x[(long long)others[t] * C + c]);
        }
        f = RELAX_FMA(w[e], (float)prod, f);
    }
    return f;
}

RELAX_HD inline void update_site(signed char* x, int i, int c, int n, int C,
                                 const float* h, const int* ptr, const float* w,
                                 const int* oth_ptr, const int* others, int pairwise,
                                 u64 key, u32 chain_key, u64 sweep) {
    float f = pairwise ? pair_field(x, i, c, C, h, ptr, others, w)
                       : general_field(x, i, c, C, h, ptr, w, oth_ptr, others);
    u32 a = site_hash(key, sweep * (u64)n + (u64)i);
    x[(long long)i * C + c] = draw(f, a, chain_key);
}

#ifndef RELAX_HOST_TEST
extern "C" __global__ void gibbs_class(signed char* x, const float* h, const int* ptr,
                                       const float* w, const int* oth_ptr,
                                       const int* others, const int* sites, int m, int n,
                                       int C, int pairwise, u64 key,
                                       const u32* chain_keys, u64 sweep) {
    long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= (long long)m * C) return;
    int c = (int)(t % C);
    int i = sites[t / C];
    update_site(x, i, c, n, C, h, ptr, w, oth_ptr, others, pairwise, key, chain_keys[c],
                sweep);
}
#else
extern "C" void host_sweeps(signed char* x, const float* h, const int* ptr, const float* w,
                            const int* oth_ptr, const int* others, const int* class_ptr,
                            const int* class_sites, int n_classes, int n, int C,
                            int pairwise, u64 key, const u32* chain_keys, u64 first_sweep,
                            int sweeps) {
    for (u64 s = first_sweep; s < first_sweep + (u64)sweeps; ++s) {
        for (int k = 0; k < n_classes; ++k) {
            for (int t = class_ptr[k]; t < class_ptr[k + 1]; ++t) {
                for (int c = 0; c < C; ++c) {
                    update_site(x, class_sites[t], c, n, C, h, ptr, w, oth_ptr, others,
                                pairwise, key, chain_keys[c], s);
                }
            }
        }
    }
}
#endif
"""
