//! Radix-2 complex FFT, for the autocovariances of long chains.

use std::f64::consts::PI;

/// Iterative radix-2 complex FFT of one power-of-two length. Twiddles are tabulated per
/// stage (contiguous in the inner loop) and each computed directly from cos/sin, not by
/// recurrence, to keep the round-off at a few ulps.
pub(super) struct Fft {
    len: usize,
    /// Stage with half-width h keeps its h twiddles exp(-i pi k / h) at offset h - 1.
    tw_re: Vec<f64>,
    tw_im: Vec<f64>,
}

impl Fft {
    pub(super) fn new(len: usize) -> Self {
        debug_assert!(len.is_power_of_two());
        let mut tw_re = Vec::with_capacity(len);
        let mut tw_im = Vec::with_capacity(len);
        let mut half = 1;
        while half < len {
            for k in 0..half {
                let angle = -PI * k as f64 / half as f64;
                tw_re.push(angle.cos());
                tw_im.push(angle.sin());
            }
            half *= 2;
        }
        Fft { len, tw_re, tw_im }
    }

    pub(super) fn forward(&self, re: &mut [f64], im: &mut [f64]) {
        let n = self.len;
        if n < 2 {
            return;
        }
        let bits = n.trailing_zeros();
        for i in 0..n {
            let j = i.reverse_bits() >> (usize::BITS - bits);
            if j > i {
                re.swap(i, j);
                im.swap(i, j);
            }
        }
        let mut half = 1;
        while half < n {
            let wr = &self.tw_re[half - 1..2 * half - 1];
            let wi = &self.tw_im[half - 1..2 * half - 1];
            for start in (0..n).step_by(2 * half) {
                let (re_a, re_b) = re[start..start + 2 * half].split_at_mut(half);
                let (im_a, im_b) = im[start..start + 2 * half].split_at_mut(half);
                for k in 0..half {
                    let tr = re_b[k] * wr[k] - im_b[k] * wi[k];
                    let ti = re_b[k] * wi[k] + im_b[k] * wr[k];
                    re_b[k] = re_a[k] - tr;
                    im_b[k] = im_a[k] - ti;
                    re_a[k] += tr;
                    im_a[k] += ti;
                }
            }
            half *= 2;
        }
    }
}
