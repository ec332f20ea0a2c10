"""Shards: every backend runs on groups of images, one job per (stage, shard), one file per image.

`plan` assigns image ids to shards (cheap, at Snakemake parse time); `job` runs one stage on one
shard, skipping images already computed and recording failures instead of stopping;
`collect` gathers the shard summaries for the tables and the failure list.
"""
