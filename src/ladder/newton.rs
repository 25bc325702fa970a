//! Maximisation in two dimensions by modified Newton (eigenvalues made positive) with a
//! backtracking Armijo line search, shared by the EB-ML and Laplace searches.

/// Newton stops when every gradient component (log density per unit of z) is below this:
/// with curvatures of order 1 or more, the optimum is then within ~1e-6 in z, far inside
/// any statistical or Monte Carlo error.
pub const NEWTON_GRAD_TOL: f64 = 1e-6;
/// Newton steps before giving up (and saying so); a good start needs fewer than 10,
/// a concentration running off to its limit about 20.
pub const NEWTON_MAX_ITER: usize = 100;
/// Largest move in z per Newton step (a 20-fold change in the concentration): keeps exp() finite and the line search short.
pub const MAX_NEWTON_STEP: f64 = 3.0;
/// Armijo constant of the backtracking line search: accept any step that gains a small fraction of the predicted rise.
pub const ARMIJO_C: f64 = 1e-4;
/// Step halvings before the line search gives up (2^-60 of a step is below rounding).
pub const MAX_HALVINGS: usize = 60;
/// Newton also stops at a maximum when its step's predicted rise, ½ g·d, is below this many
/// units of rounding (eps |f|) in the objective: the optimum is then located as well as f64
/// allows (with millions of trials the log likelihood is ~1e7, its sums jitter by ~1e-8, and
/// the gradient cannot be driven below ~1e-3 however long Newton runs).
pub const ROUNDING_GAIN_ULPS: f64 = 4.0;
/// Smallest eigenvalue, relative to the largest, accepted in the Newton system: flatter or
/// wrong-signed directions are flipped/floored so every direction ascends (modified Newton).
pub const EIGEN_FLOOR: f64 = 1e-8;

/// Where a 2-D Newton maximisation ended.
#[derive(Debug, Clone, Copy)]
pub struct NewtonFit {
    pub z: [f64; 2],
    pub value: f64,
    pub gradient: [f64; 2],
    pub hessian: [[f64; 2]; 2],
    pub iterations: usize,
    /// Max-norm of the gradient below NEWTON_GRAD_TOL, or a maximum whose remaining rise
    /// is below the objective's rounding (ROUNDING_GAIN_ULPS).
    pub converged: bool,
}

impl NewtonFit {
    /// Max-norm of the final gradient.
    pub fn gradient_norm(&self) -> f64 {
        self.gradient[0].abs().max(self.gradient[1].abs())
    }
}

/// Eigen-decomposition of a symmetric 2x2 matrix: (eigenvalues, unit eigenvectors as columns).
fn sym_eigen(a: [[f64; 2]; 2]) -> ([f64; 2], [[f64; 2]; 2]) {
    let (p, b, d) = (a[0][0], a[0][1], a[1][1]);
    let mid = 0.5 * (p + d);
    let rad = (0.25 * (p - d) * (p - d) + b * b).sqrt();
    let l = [mid + rad, mid - rad];
    if b == 0.0 {
        return if p >= d {
            ([p, d], [[1.0, 0.0], [0.0, 1.0]])
        } else {
            ([d, p], [[0.0, 1.0], [1.0, 0.0]])
        };
    }
    // (b, l - p) is an eigenvector for eigenvalue l; the other is its perpendicular.
    let (vx, vy) = (b, l[0] - p);
    let norm = (vx * vx + vy * vy).sqrt();
    let (vx, vy) = (vx / norm, vy / norm);
    (l, [[vx, -vy], [vy, vx]])
}

/// An ascent direction: the Newton step for -H with its eigenvalues made positive
/// (absolute values, floored), so saddles and convex regions still move uphill.
/// Also says whether -H was positive definite as it stood (a true Newton step).
fn ascent_direction(g: [f64; 2], h: [[f64; 2]; 2]) -> ([f64; 2], bool) {
    let neg = [[-h[0][0], -h[0][1]], [-h[1][0], -h[1][1]]];
    let (l, v) = sym_eigen(neg);
    let floor = EIGEN_FLOOR * l[0].abs().max(l[1].abs()).max(1.0);
    let definite = l[0] >= floor && l[1] >= floor;
    let mut d = [0.0; 2];
    for e in 0..2 {
        let col = [v[0][e], v[1][e]];
        let coef = (col[0] * g[0] + col[1] * g[1]) / l[e].abs().max(floor);
        d[0] += coef * col[0];
        d[1] += coef * col[1];
    }
    (d, definite)
}

/// Maximises f over z in R^2 by modified Newton with backtracking (Armijo) line search;
/// f returns -inf where it is undefined.
pub fn newton_maximise(
    f: impl Fn([f64; 2]) -> (f64, [f64; 2], [[f64; 2]; 2]),
    start: [f64; 2],
) -> Result<NewtonFit, String> {
    let (mut value, mut g, mut h) = f(start);
    if !value.is_finite() {
        return Err(format!(
            "the objective is not finite at the start z = {start:?}"
        ));
    }
    let mut z = start;
    for iterations in 0..NEWTON_MAX_ITER {
        let (mut d, definite) = ascent_direction(g, h);
        // Converged: a flat gradient, or a maximum whose remaining rise is below rounding
        // (where no step can be verified).
        let rounding = ROUNDING_GAIN_ULPS * f64::EPSILON * value.abs().max(1.0);
        if g[0].abs().max(g[1].abs()) < NEWTON_GRAD_TOL
            || (definite && 0.5 * (g[0] * d[0] + g[1] * d[1]) < rounding)
        {
            return Ok(NewtonFit {
                z,
                value,
                gradient: g,
                hessian: h,
                iterations,
                converged: true,
            });
        }
        let longest = d[0].abs().max(d[1].abs());
        if longest > MAX_NEWTON_STEP {
            d = [
                d[0] * MAX_NEWTON_STEP / longest,
                d[1] * MAX_NEWTON_STEP / longest,
            ];
        }
        let slope = g[0] * d[0] + g[1] * d[1];
        // Rounding slack: near the optimum the gain is at the level of rounding in f.
        let slack = rounding;
        let mut t = 1.0;
        let mut accepted = None;
        for _ in 0..MAX_HALVINGS {
            let trial = [z[0] + t * d[0], z[1] + t * d[1]];
            let next = f(trial);
            if next.0 >= value + ARMIJO_C * t * slope - slack {
                accepted = Some((trial, next));
                break;
            }
            t *= 0.5;
        }
        match accepted {
            Some((trial, next)) => {
                z = trial;
                (value, g, h) = next;
            }
            None => {
                return Ok(NewtonFit {
                    z,
                    value,
                    gradient: g,
                    hessian: h,
                    iterations,
                    converged: false,
                })
            }
        }
    }
    Ok(NewtonFit {
        z,
        value,
        gradient: g,
        hessian: h,
        iterations: NEWTON_MAX_ITER,
        converged: g[0].abs().max(g[1].abs()) < NEWTON_GRAD_TOL,
    })
}
