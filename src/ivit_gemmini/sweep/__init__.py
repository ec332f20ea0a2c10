"""The design-space sweep: several Gemmini configurations in one run (`gemmini_configs`), each
refused at start-up when the header cannot tile the model on it, and the per-model,
per-configuration tables and figures of `make sweep` (workflow/rules/sweep.smk)."""
