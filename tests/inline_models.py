"""Tiny inline Antimony models shared by tests (a plain module: a conftest name would be shadowed by sub-package conftests)."""

#: A + B <-> C, C -> D, D -> A + B in a compartment of volume 2: two conservation laws.
CONSERVED_CYCLE = """
model conserved_cycle
  compartment c = 2
  species A in c, B in c, C in c, D in c
  J1: A + B -> C; c*(k1*A*B - k2*C)
  J2: C -> D; c*k3*C
  J3: D -> A + B; c*k4*D
  k1 = 1; k2 = 0.5; k3 = 0.3; k4 = 0.2
  A = 2; B = 3; C = 0; D = 0
end
"""
