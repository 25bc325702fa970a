//! Autocovariances averaged over chains: lag by lag while few are needed, then all the
//! rest from one FFT per pair of chains.

use super::fft::Fft;
use super::scratch;

/// Autocovariances are computed lag by lag until this many lags per log2 of the FFT
/// length have been needed; past that, one FFT for all lags is cheaper than going on.
const FFT_SWITCH_LAGS_PER_LOG2: usize = 8;

/// Autocovariance at each lag, averaged over chains, with the biased 1/n normalisation
/// ArviZ uses. Lags are computed directly one at a time as Geyer's sequence asks for
/// them (cheap when autocorrelation dies quickly); once many lags are needed, all
/// remaining lags come from one zero-padded FFT per chain, keeping the worst case at
/// O(n log n) rather than O(n^2).
pub(super) struct MeanAutocov {
    centered: Vec<f64>,
    n_chains: usize,
    n_draws: usize,
    lags: Vec<f64>,
    fft_done: bool,
    switch_lag: usize,
}

impl MeanAutocov {
    pub(super) fn new(centered: Vec<f64>, n_chains: usize, n_draws: usize) -> Self {
        let fft_len = (2 * n_draws).next_power_of_two();
        let switch_lag = FFT_SWITCH_LAGS_PER_LOG2 * fft_len.trailing_zeros() as usize;
        MeanAutocov {
            centered,
            n_chains,
            n_draws,
            lags: Vec::new(),
            fft_done: false,
            switch_lag,
        }
    }

    pub(super) fn get(&mut self, lag: usize) -> f64 {
        while self.lags.len() <= lag {
            if !self.fft_done && self.lags.len() >= self.switch_lag {
                self.fill_by_fft();
            } else {
                let next = self.direct(self.lags.len());
                self.lags.push(next);
            }
        }
        self.lags[lag]
    }

    fn direct(&self, lag: usize) -> f64 {
        let n = self.n_draws;
        let mut total = 0.0;
        for c in 0..self.n_chains {
            let x = &self.centered[c * n..(c + 1) * n];
            total += dot(&x[..n - lag], &x[lag..]) / n as f64;
        }
        total / self.n_chains as f64
    }

    /// Appends every lag not yet computed, from FFTs of the chains. Two real chains share
    /// one complex transform (one as the real part, one as the imaginary part), and
    /// their two power spectra share the transform back.
    fn fill_by_fft(&mut self) {
        let n = self.n_draws;
        // Zero padding to >= 2n makes the circular correlation equal the linear one.
        let len = (2 * n).next_power_of_two();
        let fft = Fft::new(len);
        let mut sums = vec![0.0; n];
        let mut re = vec![0.0; len];
        let mut im = vec![0.0; len];
        let mut power_a = vec![0.0; len];
        let mut power_b = vec![0.0; len];
        let scale = 1.0 / (len as f64 * n as f64);
        for first in (0..self.n_chains).step_by(2) {
            re.fill(0.0);
            im.fill(0.0);
            re[..n].copy_from_slice(&self.centered[first * n..(first + 1) * n]);
            if first + 1 < self.n_chains {
                im[..n].copy_from_slice(&self.centered[(first + 1) * n..(first + 2) * n]);
            }
            fft.forward(&mut re, &mut im);
            // Z = A + iB with A, B the spectra of the real chains:
            // A_k = (Z_k + conj Z_-k) / 2 and B_k = (Z_k - conj Z_-k) / 2i.
            for k in 0..len {
                let j = (len - k) % len;
                let (ar, ai) = (0.5 * (re[k] + re[j]), 0.5 * (im[k] - im[j]));
                let (br, bi) = (0.5 * (im[k] + im[j]), -0.5 * (re[k] - re[j]));
                power_a[k] = ar * ar + ai * ai;
                power_b[k] = br * br + bi * bi;
            }
            // Power spectra are real and even, so their forward transforms are real, even,
            // and equal to len times the inverse transforms.
            re.copy_from_slice(&power_a);
            im.copy_from_slice(&power_b);
            fft.forward(&mut re, &mut im);
            for (lag, s) in sums.iter_mut().enumerate() {
                *s += (re[lag] + im[lag]) * scale;
            }
        }
        let start = self.lags.len();
        self.lags
            .extend(sums[start..].iter().map(|s| s / self.n_chains as f64));
        self.fft_done = true;
    }
}

impl Drop for MeanAutocov {
    fn drop(&mut self) {
        scratch::give(std::mem::take(&mut self.centered));
    }
}

/// Dot product with four independent accumulators, so the compiler can pipeline and
/// vectorise it (a single running sum is a serial dependency chain).
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..4 {
            acc[i] += x[i] * y[i];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

#[cfg(test)]
mod tests {
    use super::super::test_chains::ar1;
    use super::*;

    #[test]
    fn fft_and_direct_autocovariances_agree() {
        let data = ar1(10, 3, 999, 0.95, &[0.0; 3]);
        let n = data[0].len();
        let mut centered = Vec::new();
        for c in &data {
            let m = c.iter().sum::<f64>() / n as f64;
            centered.extend(c.iter().map(|x| x - m));
        }
        let direct = MeanAutocov::new(centered.clone(), 3, n);
        let mut fft = MeanAutocov::new(centered, 3, n);
        fft.fill_by_fft();
        let scale = direct.direct(0).abs();
        for lag in [0, 1, 2, 17, 300, 998] {
            let d = direct.direct(lag);
            let f = fft.get(lag);
            assert!((d - f).abs() <= 1e-12 * scale, "lag {lag}: {d} vs {f}");
        }
    }

    #[test]
    fn many_lags_switch_to_the_fft() {
        // Asking for every lag must not evaluate more than `switch_lag` of them directly:
        // that is what keeps slowly mixing long chains O(n log n) instead of O(n^2).
        let data = ar1(11, 2, 20_000, 0.999, &[0.0; 2]);
        let n = data[0].len();
        let centered: Vec<f64> = data.iter().flatten().copied().collect();
        let mut acov = MeanAutocov::new(centered, 2, n);
        let switch_lag = acov.switch_lag;
        assert!(switch_lag < 200, "switch_lag = {switch_lag}");
        for lag in 0..n {
            acov.get(lag);
            if lag < switch_lag {
                assert!(!acov.fft_done, "FFT before lag {switch_lag}");
            }
        }
        assert!(acov.fft_done);
    }
}
