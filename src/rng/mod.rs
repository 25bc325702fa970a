//! Philox4x32-10 (Salmon et al. 2011, Random123): the counter-based generator
//! shared by the GPU shaders and the CPU path.
//!
//! Rust twin of `shaders/shared/philox.wgsl` and `shaders/shared/variates.wgsl`:
//! keep the arithmetic identical, because the GPU and CPU paths must consume the
//! same stream. The key is `(seed, chain)`; the counter is
//! `(index, unit, sweep, stream << STREAM_SHIFT | block)`, so every
//! (chain, unit, sweep, observation) owns its own sequence of blocks and a
//! rejection step that takes another branch on one path never shifts another draw.

pub mod host_variates;

/// Philox multipliers and Weyl key increments (Random123 `philox4x32` constants).
pub(crate) const PHILOX_M0: u32 = 0xD251_1F53;
pub(crate) const PHILOX_M1: u32 = 0xCD9E_8D57;
pub(crate) const PHILOX_W0: u32 = 0x9E37_79B9;
pub(crate) const PHILOX_W1: u32 = 0xBB67_AE85;
/// Ten rounds: the Random123 default, the variant with published known answers.
pub(crate) const PHILOX_ROUNDS: usize = 10;

/// The counter's last word holds the stream tag above this bit and the block number below it.
pub(crate) const STREAM_SHIFT: u32 = 24;
/// Largest block number one (index, unit, sweep, stream) may use.
pub(crate) const MAX_BLOCK: u32 = (1 << STREAM_SHIFT) - 1;

/// Which use a block of random numbers belongs to; the tag goes in the counter's last word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Stream {
    /// Gamma variate for the first Beta shape of theta (STREAM_THETA_A in variates.wgsl: build.rs checks it).
    ThetaA = 1,
    /// Gamma variate for the second Beta shape of theta (STREAM_THETA_B in variates.wgsl: build.rs checks it).
    ThetaB = 2,
    /// Host slice-sampler moves of the hyperparameters.
    Hyper = 3,
    /// Starting values of the hyperparameters.
    Init = 4,
    /// Metropolis proposals and acceptances of the collapsed update.
    Collapsed = 5,
    /// The methylation site update's proposal normal and acceptance uniform (build.rs checks it
    /// with STREAM_SITE in site_update.wgsl).
    Site = 6,
    /// Host-only draws of the estimation ladder (`ladder`) and of posterior predictive checks (`ppc`).
    Ladder = 7,
    Predictive = 8,
    /// The methylation site regression's proposals and acceptances (build.rs checks it with
    /// STREAM_SITE_REGRESSION in site_regression.wgsl).
    SiteRegression = 9,
}

/// The Philox4x32-10 bijection: four 32-bit words of output per (counter, key).
#[inline]
pub fn philox4x32_10(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let mut c = counter;
    let mut k = key;
    for round in 0..PHILOX_ROUNDS {
        if round > 0 {
            k[0] = k[0].wrapping_add(PHILOX_W0);
            k[1] = k[1].wrapping_add(PHILOX_W1);
        }
        let p0 = u64::from(PHILOX_M0) * u64::from(c[0]);
        let p1 = u64::from(PHILOX_M1) * u64::from(c[2]);
        let (hi0, lo0) = ((p0 >> 32) as u32, p0 as u32);
        let (hi1, lo1) = ((p1 >> 32) as u32, p1 as u32);
        c = [hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0];
    }
    c
}

/// The counter of one block: see the module documentation for the layout.
#[inline]
pub fn counter(index: u32, unit: u32, sweep: u32, stream: Stream, block: u32) -> [u32; 4] {
    debug_assert!(block <= MAX_BLOCK);
    [
        index,
        unit,
        sweep,
        ((stream as u32) << STREAM_SHIFT) | block,
    ]
}

/// A uniform f32 in the open interval (0, 1) from the top 23 bits of a word: (k + 1/2) / 2^23
/// is exact in f32 (the largest, 1 - 2^-24, is the float just below 1), so both paths get
/// the same value bit for bit and never 0 or 1.
#[inline]
pub fn uniform_f32(word: u32) -> f32 {
    ((word >> 9) as f32 + 0.5) * (1.0 / 8_388_608.0)
}

/// A uniform f64 in the open interval (0, 1) from two words: (k + 1/2) / 2^52 with 52
/// random bits, exact in f64 and never 0 or 1.
#[inline]
pub fn uniform_f64(hi: u32, lo: u32) -> f64 {
    let bits = (u64::from(hi) << 20) | (u64::from(lo) >> 12);
    (bits as f64 + 0.5) * (1.0 / 4_503_599_627_370_496.0)
}

/// A site's identity as two words, its random numbers' key: the chromosome's key (with the
/// position's high word folded in, for chromosomes past 4 Gb) and the position's low word.
/// The methylation site stages key each site's streams by this, never by its place in a run
/// or a chunk, so a shard, a chunk or a resumed run draws exactly what the whole run draws.
#[inline]
pub fn site_id(chromosome_key: u32, pos: u64) -> [u32; 2] {
    [chromosome_key ^ fmix32((pos >> 32) as u32), pos as u32]
}

/// A hash of a site's position for sampling (methyl::scan_sample), every file computing it
/// alike: murmur3's 64-bit finaliser of the chromosome's key and the position, mixed with
/// the seed so that each seed samples other sites.
pub fn sample_hash(seed: u32, chromosome_key: u32, pos: u64) -> u64 {
    let fmix64 = |mut h: u64| {
        h ^= h >> 33;
        h = h.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
        h ^= h >> 33;
        h = h.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
        h ^ (h >> 33)
    };
    fmix64(fmix64((u64::from(seed) << 32) | u64::from(chromosome_key)) ^ pos)
}

/// A chromosome's 32-bit key: FNV-1a of its name, then murmur3's finaliser to spread it.
/// Two names of one run that share a key would share random streams at equal positions:
/// harmless to any estimate (the chains stay valid), and about one chance in 10^6 among a
/// 3,000-contig assembly's pairs (n^2 / 2^33).
pub fn chromosome_key(name: &str) -> u32 {
    // FNV-1a's 32-bit offset basis and prime.
    const FNV_OFFSET: u32 = 0x811C_9DC5;
    const FNV_PRIME: u32 = 0x0100_0193;
    let hash = name.bytes().fold(FNV_OFFSET, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(FNV_PRIME)
    });
    fmix32(hash)
}

/// murmur3's 32-bit finaliser (a bijection; 0 maps to 0).
#[inline]
fn fmix32(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85EB_CA6B);
    h ^= h >> 13;
    h = h.wrapping_mul(0xC2B2_AE35);
    h ^ (h >> 16)
}

/// A sequence of f64 uniforms for host-side updates: consecutive blocks of one
/// (chain, index, unit, sweep, stream), two uniforms per block.
pub struct UniformStream {
    key: [u32; 2],
    index: u32,
    unit: u32,
    sweep: u32,
    stream: Stream,
    block: u32,
    buffer: [f64; 2],
    used: usize,
}

impl UniformStream {
    pub fn new(seed: u32, chain: u32, index: u32, unit: u32, sweep: u32, stream: Stream) -> Self {
        UniformStream {
            key: [seed, chain],
            index,
            unit,
            sweep,
            stream,
            block: 0,
            buffer: [0.0; 2],
            used: 2,
        }
    }

    /// The next uniform in (0, 1).
    pub fn next_f64(&mut self) -> f64 {
        if self.used == 2 {
            // Wrapping past MAX_BLOCK would reuse blocks; no update comes near 2^24 blocks.
            let w = philox4x32_10(
                counter(
                    self.index,
                    self.unit,
                    self.sweep,
                    self.stream,
                    self.block & MAX_BLOCK,
                ),
                self.key,
            );
            self.block += 1;
            self.buffer = [uniform_f64(w[0], w[1]), uniform_f64(w[2], w[3])];
            self.used = 0;
        }
        self.used += 1;
        self.buffer[self.used - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chromosome_keys_are_stable_and_distinct() {
        // Value stability: a change here changes every methylation run's draws.
        assert_eq!(chromosome_key(""), fmix32(0x811C_9DC5));
        assert_eq!(chromosome_key("chr1"), 0xBE7C_7E54);
        assert_eq!(chromosome_key("chrX"), 0xF8D7_3B2F);
        let keys: Vec<u32> = ["chr1", "chr2", "chr10", "chrX", "1", "2"]
            .iter()
            .map(|c| chromosome_key(c))
            .collect();
        for (i, a) in keys.iter().enumerate() {
            assert!(keys[i + 1..].iter().all(|b| a != b));
        }
        assert_eq!(site_id(keys[0], 17), [keys[0], 17]);
        assert_ne!(site_id(keys[0], 17 + (1 << 32))[0], keys[0]);
    }

    #[test]
    fn uniforms_stay_inside_the_open_interval() {
        assert!(uniform_f32(0) > 0.0 && uniform_f32(u32::MAX) < 1.0);
        assert!(uniform_f64(0, 0) > 0.0 && uniform_f64(u32::MAX, u32::MAX) < 1.0);
    }

    #[test]
    fn uniform_stream_moments() {
        let mut s = UniformStream::new(7, 3, 0, 0, 0, Stream::Hyper);
        let n = 200_000;
        let (mut m1, mut m2) = (0.0, 0.0);
        for _ in 0..n {
            let u = s.next_f64();
            m1 += u;
            m2 += u * u;
        }
        let (m1, m2) = (m1 / n as f64, m2 / n as f64);
        // Standard errors: sqrt(1/12/n) = 6.5e-4 and sqrt(4/45/n) = 6.7e-4; allow 5 of them.
        assert!((m1 - 0.5).abs() < 5.0 * 6.5e-4, "mean {m1}");
        assert!((m2 - 1.0 / 3.0).abs() < 5.0 * 6.7e-4, "second moment {m2}");
    }
}
