//! The estimation ladder: complete pooling, no pooling, empirical Bayes (moments and
//! marginal maximum likelihood), and Laplace + SIR. (Being written.)
