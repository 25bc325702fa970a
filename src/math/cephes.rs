//! Cephes' single-precision polynomials (logf, expf, sinf, cosf), named once for the two
//! branch-free lane implementations (`kernels::cpu::lanes`, `kernels::cpu::site_lanes`).
//! The shaders call WGSL's built-ins; these keep the CPU twins vectorised, within a few
//! ulps of them.

/// logf's polynomial in the reduced mantissa, highest power first.
pub(crate) const LN_POLYNOMIAL: [f32; 9] = [
    7.037_683_6e-2,
    -1.151_461_1e-1,
    1.167_699_9e-1,
    -1.242_014_1e-1,
    1.424_932_3e-1,
    -1.666_805_8e-1,
    2.000_071_5e-1,
    -2.499_999_4e-1,
    3.333_333e-1,
];
/// ln 2 in two parts: the high part is exact in f32, so that n ln 2 adds without rounding.
pub(crate) const LN2_HI: f32 = 0.693_359_4;
pub(crate) const LN2_LO: f32 = 2.121_944_4e-4;
/// expf's polynomial in the reduced argument r, highest power first: e^r = 1 + r + r^2 p(r).
pub(crate) const EXP_POLYNOMIAL: [f32; 6] = [
    1.987_569_2e-4,
    1.398_2e-3,
    8.333_452e-3,
    4.166_579_6e-2,
    1.666_666_5e-1,
    5e-1,
];
/// 1.5 * 2^23: adding and subtracting it rounds an f32 to an integer without libm's floor
/// (which baseline x86-64, lacking SSE4.1, calls per lane, stopping vectorisation).
pub(crate) const ROUND_SHIFTER: f32 = 12_582_912.0;
/// cosf on [0, pi/4]: 1 - z^2/2 + z^4 ((c0 z^2 - c1) z^2 + c2).
pub(crate) const COS_POLYNOMIAL: [f32; 3] = [2.443_315_7e-5, 1.388_731_6e-3, 4.166_664_6e-2];
/// sinf on [0, pi/4]: z + z^3 ((-s0 z^2 + s1) z^2 - s2).
pub(crate) const SIN_POLYNOMIAL: [f32; 3] = [1.951_529_6e-4, 8.332_161e-3, 1.666_665_5e-1];
