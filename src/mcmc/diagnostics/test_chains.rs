//! Test chains: AR(1) series from an integer LCG, identical to the Python generator in
//! `tests.rs`, so ArviZ's answers on them can be checked bit for bit.

/// Knuth's MMIX LCG, identical to the Python `Lcg` in tests.rs.
struct Lcg(u64);

impl Lcg {
    fn next_u(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / 9007199254740992.0
    }
}

/// AR(1) chains with uniform(-1, 1) innovations, identical to the Python `ar1`.
pub(super) fn ar1(
    seed: u64,
    chains: usize,
    draws: usize,
    phi: f64,
    offsets: &[f64],
) -> Vec<Vec<f64>> {
    let mut rng = Lcg(seed);
    (0..chains)
        .map(|c| {
            let mut x = 0.0;
            (0..draws)
                .map(|_| {
                    x = phi * x + (2.0 * rng.next_u() - 1.0);
                    x + offsets[c]
                })
                .collect()
        })
        .collect()
}
