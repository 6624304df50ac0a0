// shaders/common/fmath.glsl — sin, cos, log and exp2 with a known error on every Vulkan device.
//
// Vulkan leaves the built-ins loose (spec, "Precision and Operation of SPIR-V Instructions"): sin and cos
// need only an absolute error ≤ 2⁻¹¹ inside [−π, π] and nothing outside it; log an absolute error ≤ 2⁻²¹
// inside [0.5, 2]. An NVIDIA H200 (driver 580) missed the double twins by up to 1.4e-3: the cosine
// schedule's sin(θ/2) for small θ (an absolute error is a large relative one there), the Box–Muller log(u)
// for u near 1, and the sinusoidal embedding's sin(a) for a up to 1000. Mesa 22.3's llvmpipe has sin and
// cos near libm, but its log(u) for u in (0.996, 1) is off by up to 10⁶ ulp (tests/test_fmath.cpp prints both).
// Their argument reductions use only products that are exact in float, so they do not depend on whether the driver
// fuses a·b + c (Vulkan allows either, fma() included), and the steps whose order matters are `precise`, so no
// compiler reassociates them; the polynomials may fuse, which moves the last bit, not the bounds:
//   sin_acc, cos_acc:  ≤ ~2 ulp of the result for |x| < 6434, near multiples of π/2 too (beyond, q·P1 stops
//                      being exact and the error grows with |x|);
//   log_acc:           ≤ ~2 ulp for positive normal x (0, negatives, inf and NaN go to the built-in);
//   exp2_acc(hi, lo):  2^(hi + lo), ≤ ~2 ulp, for |hi| < 126 and |lo| ≪ 1 (a two-float exponent).
// Measured against double on random arguments by tests/test_fmath.cpp.
// Reference: the C library's double sin, cos, log, exp2 (through shaders/test/fmath.comp); tests:
//   tests/test_fmath.cpp
#ifndef DIFFUSCOPE_FMATH_GLSL
#define DIFFUSCOPE_FMATH_GLSL

// π/2 = P1 + P2 + P3 + P4 (+ 2e-21): P1, P2, P3 have 12 significant bits, so q·Pi is exact for |q| < 2¹²
// (Cody & Waite's reduction, with the constants split for float).
const float FM_P1 = 1.57080078125;              // 0x1.922p0
const float FM_P2 = -4.453584551811218e-06;     // -0x1.2aep-18
const float FM_P3 = -8.706138032721356e-10;     // -0x1.deap-31
const float FM_P4 = 6.223371969669989e-14;
const float FM_TWO_OVER_PI = 0.6366197723675814;

// sin and cos of r ∈ [−π/4, π/4] (a little beyond is fine): minimax polynomials of Cephes' sinf/cosf
// (S. L. Moshier, Cephes Math Library), ~1 ulp there.
float fm_sin_poly(float r) {
    const float z = r * r;
    return r + r * z * (-1.6666654611e-1 + z * (8.3321608736e-3 + z * -1.9515295891e-4));
}
float fm_cos_poly(float r) {
    const float z = r * r;
    return 1.0 - 0.5 * z + z * z * (4.166664568298827e-2 + z * (-1.388731625493765e-3 + z * 2.443315711809948e-5));
}

// s = sin x, c = cos x.
void sincos_acc(float x, out float s, out float c) {
    if (isnan(x) || isinf(x)) {
        s = c = x - x;  // NaN
        return;
    }
    const float q = floor(x * FM_TWO_OVER_PI + 0.5);  // the nearest quadrant (any nearby integer works)
    // precise: in that order, unfused and unreassociated (Mesa's NIR folds q·P1 + q·P2 + … into q·(π/2) otherwise).
    precise float r = x - q * FM_P1;                  // exact while |q| < 2¹² (Sterbenz)
    r = r - q * FM_P2;
    r = r - q * FM_P3;
    r = r - q * FM_P4;
    const float ps = fm_sin_poly(r), pc = fm_cos_poly(r);
    // x = q·π/2 + r: rotate by the quadrant (q mod 4; q may be negative).
    const int k = int(q - 4.0 * floor(q * 0.25));
    s = k == 0 ? ps : k == 1 ? pc : k == 2 ? -ps : -pc;
    c = k == 0 ? pc : k == 1 ? -ps : k == 2 ? -pc : ps;
}
float sin_acc(float x) {
    float s, c;
    sincos_acc(x, s, c);
    return s;
}
float cos_acc(float x) {
    float s, c;
    sincos_acc(x, s, c);
    return c;
}

// ln 2 = LN2_HI + LN2_LO with LN2_HI of 16 bits, so e·LN2_HI is exact for any float exponent e.
const float FM_LN2_HI = 0.693145751953125;  // 0x1.62e4p-1
const float FM_LN2_LO = 1.428606765330187e-06;

// log x = e·ln 2 + log(1 + f), x = 2^e (1 + f), 1 + f ∈ [√½, √2): f is exact, and with s = f/(2 + f),
// log(1 + f) = 2 atanh s = f − s·(f − R), R = s²(2/3 + 2s²/5 + …) (|s| ≤ 0.172: the series to s¹² is
// below float rounding).
float log_acc(float x) {
    if (!(x > 0.0) || isinf(x)) return log(x);
    int e;
    float m = frexp(x, e);  // m ∈ [0.5, 1)
    if (m < 0.70710678) {
        m *= 2.0;
        e -= 1;
    }
    precise const float f = m - 1.0;
    const float s = f / (2.0 + f), z = s * s;
    const float R = z * (0.66666666666 + z * (0.4 + z * (0.28571428571 + z * (0.22222222222 + z * (0.18181818181 + z * 0.15384615385)))));
    const float fe = float(e);
    precise const float lg = fe * FM_LN2_HI + ((f - s * (f - R)) + fe * FM_LN2_LO);
    return lg;
}

// 2^(hi + lo): hi = n + g with n an integer and |g| ≤ ½ (exact), then e^t for t = (g + lo)·ln 2, |t| ≤ 0.35,
// by its Taylor series to t⁹ (the rest < 3e-10 relative).
float exp2_acc(float hi, float lo) {
    const float n = floor(hi + 0.5);
    precise const float t = ((hi - n) + lo) * 0.6931471805599453;
    const float p = 1.0 + t * (1.0 + t * (0.5 + t * (1.0 / 6.0 + t * (1.0 / 24.0 + t * (1.0 / 120.0 +
                    t * (1.0 / 720.0 + t * (1.0 / 5040.0 + t * (1.0 / 40320.0 + t * (1.0 / 362880.0)))))))));
    return ldexp(p, int(n));
}

#endif
