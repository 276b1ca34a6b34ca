"""sitewarden's local AWS: moto in server mode plus fidelity patches.

moto answers most of the calls sitewarden makes, but not all of them the way AWS does. Each module in
`patches/` reproduces one service's missing or wrong AWS behaviour; `apply_all()` installs them before
the server builds its routes.
"""
