//! Figures (plotters, SVG or PNG). (Being written.)
