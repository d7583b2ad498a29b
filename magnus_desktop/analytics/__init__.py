"""Pure numerical functions (NumPy): pricing, Greeks, implied volatility, scanner scoring. No I/O, no Qt."""
