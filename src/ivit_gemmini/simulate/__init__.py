"""Running Spike (with our Gemmini extension) and Verilator; parsing their logs."""
