"""The compile stage: the integer program as a TVM Relax module, Gemmini offload, C emission.

`graph.build_relax_module` writes the specification in Relax, `cpu_backend` runs it through
TVM's llvm build (`tvm-cpu`), `passes` offload the matmuls to Gemmini, `aot` emits the static
run function and `mlf` packs everything into a Model Library Format-style archive.
"""
